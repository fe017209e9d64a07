"""A gateway on fault-injecting fakes with the plugin registered, traced into memory.

The chain: a primary that fails at once (``Unavailable``, with a secret and an address in its
error text) and trips its breaker after two failures, and a healthy backup answering in
0.25 s of virtual time. A spy observer keeps the call records the spans are made from.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator

import aicmo_gateway_otel
import aicmo_gateway_otel.plugin
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aicmo_gateway import CallRecord, Gateway, Registry, hookimpl
from aicmo_gateway.testing import FakeProvider, fake_config, fake_plugin
from aicmo_gateway.testing.profiles import fast_failure, healthy

#: the test module checks that none of these appears anywhere in a span
SECRET = "sk-live-9f8e7d6c5b4a"
RELAY_ADDRESS = "relay.internal.example:2525"
FAILURE = f"{RELAY_ADDRESS} refused key {SECRET} for lead@example.com"


def _failover_gateway(records: list[CallRecord]) -> Gateway:
    config = fake_config("email_sending", "primary", "backup")
    config["providers"]["primary"]["health"] = {"consecutive_failures": 2, "open_seconds": 60}
    fakes = fake_plugin(
        primary=FakeProvider(fast_failure(FAILURE), name="primary"),
        backup=FakeProvider(healthy(latency=0.25), name="backup"),
    )

    @hookimpl
    def aicmo_call_finished(call: CallRecord) -> None:
        records.append(call)

    spy = types.SimpleNamespace(aicmo_call_finished=aicmo_call_finished)
    registry = Registry.from_plugins(
        {"fakes": fakes, "spy": spy, "otel": aicmo_gateway_otel.plugin}, strict=True
    )
    return Gateway.from_config(config, registry=registry, env={})


@pytest.fixture
def failover_gateway() -> Callable[[list[CallRecord]], Gateway]:
    """Builds the gateway; the call records go to the list passed."""
    return _failover_gateway


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    aicmo_gateway_otel.configure(provider)
    yield exporter
    aicmo_gateway_otel.configure(enabled=False)
    provider.shutdown()
