"""A gateway on fault-injecting fakes with the plugin registered, and a registry per test.

The chain is the one the README describes: a primary that fails at once (``Unavailable``)
and trips its breaker after two failures, and a healthy backup answering in 0.25 s (virtual
time, so every duration is exact) with a daily quota of 100.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import aicmo_gateway_prometheus
import aicmo_gateway_prometheus.plugin
import pytest
from prometheus_client import CollectorRegistry

from aicmo_gateway import Gateway, Registry
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing import FakeProvider, fake_config, fake_plugin, run_virtual
from aicmo_gateway.testing.profiles import fast_failure, healthy

#: the test module checks that neither appears in any series
RECIPIENT = "lead@example.com"
SUBJECT = "A very private subject line"
#: small buckets keep the expected exposition short (the test module uses the same)
BUCKETS = (0.1, 0.5)


def _failover_gateway() -> Gateway:
    config = fake_config("email_sending", "primary", "backup")
    config["providers"]["primary"]["health"] = {"consecutive_failures": 2, "open_seconds": 60}
    config["providers"]["backup"]["quotas"] = {"day": 100}
    fakes = fake_plugin(
        primary=FakeProvider(fast_failure(), name="primary"),
        backup=FakeProvider(healthy(latency=0.25), name="backup"),
    )
    registry = Registry.from_plugins(
        {"fakes": fakes, "prometheus": aicmo_gateway_prometheus.plugin}, strict=True
    )
    return Gateway.from_config(config, registry=registry, env={})


def _send_three(gateway: Gateway) -> list[str]:
    """Three sends: two fail over from the primary (tripping its breaker), one skips it."""

    async def run() -> list[str]:
        outcomes = []
        for n in range(3):
            message = EmailMessage(to=RECIPIENT, subject=SUBJECT, text=f"Hello {n}")
            outcomes.append(await gateway.email_sending.send(message))
        await gateway.aclose()
        return [o.call_id for o in outcomes]

    # the virtual clock starts at the real monotonic time, so a scrape after the run (in
    # another thread, on the real clock) sees the breaker's open period still running
    return run_virtual(run(), start=time.monotonic())


@pytest.fixture
def failover_gateway() -> Callable[[], Gateway]:
    """Builds the gateway (a fresh one per call)."""
    return _failover_gateway


@pytest.fixture
def send_three() -> Callable[[Gateway], list[str]]:
    """Runs the three sends on a gateway, closes it, returns the call ids."""
    return _send_three


@pytest.fixture
def registry() -> Iterator[CollectorRegistry]:
    registry = CollectorRegistry()
    aicmo_gateway_prometheus.configure(registry, buckets=BUCKETS)
    yield registry
    aicmo_gateway_prometheus.configure(enabled=False)
