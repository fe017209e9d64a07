"""The cost of the metrics and tracing plugins on a gateway call.

The same gateway (``email_verification.verify``, fakes answering at once, on a real event
loop) is driven with each set of observer plugins, in the same run and interleaved (every set
takes a turn in every round), and the table gives microseconds per call, the best round and
the median (other work on a shared machine only adds time: the best round is the steadier
figure), and the ratio of the best rounds over the same gateway with no observer:

- **no observer**: the peer, what every row is compared with;
- **prometheus**: ``aicmo-gateway-prometheus`` on its own ``CollectorRegistry``;
- **otel, no-op provider**: ``aicmo-gateway-otel`` while the application set no SDK;
- **otel, SDK, batch**: the SDK's ``TracerProvider`` with a ``BatchSpanProcessor`` to an
  in-memory exporter (the export runs in the processor's thread, as in production);
- **both**: prometheus and otel (SDK, batch).

Two chains: one attempt (a healthy provider) and a failover (a failing primary, with its
breaker rules off so it is tried every time, then a healthy backup: two attempts).

    python benchmarks/observers.py [--calls 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import aicmo_gateway_otel
import aicmo_gateway_otel.plugin
import aicmo_gateway_prometheus
import aicmo_gateway_prometheus.plugin
from machine import describe  # benchmarks/machine.py (run as a file)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider
from prometheus_client import CollectorRegistry

from aicmo_gateway import Gateway, Registry
from aicmo_gateway.testing import FakeProvider, fake_config, fake_plugin
from aicmo_gateway.testing.profiles import fast_failure, healthy

OFF = {"consecutive_failures": "off", "failure_rate_threshold": "off"}
#: a read: no idempotency ledger answers a repeat, so every call runs the chain
ADDRESS = "a@example.com"


def _gateway(chain: str, observers: dict[str, Any]) -> Gateway:
    if chain == "one attempt":
        config = fake_config("email_verification", "only")
        fakes = fake_plugin(only=FakeProvider(healthy()))
    else:
        config = fake_config("email_verification", "primary", "backup")
        config["providers"]["primary"]["health"] = OFF
        fakes = fake_plugin(primary=FakeProvider(fast_failure()), backup=FakeProvider(healthy()))
    registry = Registry.from_plugins({"fakes": fakes, **observers}, strict=True)
    return Gateway.from_config(config, registry=registry, env={})


def _sets(batch: TracerProvider) -> dict[str, Callable[[], dict[str, Any]]]:
    prom = aicmo_gateway_prometheus.plugin
    otel = aicmo_gateway_otel.plugin

    def none() -> dict[str, Any]:
        aicmo_gateway_prometheus.configure(enabled=False)
        aicmo_gateway_otel.configure(enabled=False)
        return {}

    def prometheus() -> dict[str, Any]:
        aicmo_gateway_prometheus.configure(CollectorRegistry())
        return {"prometheus": prom}

    def otel_noop() -> dict[str, Any]:
        aicmo_gateway_otel.configure(NoOpTracerProvider())
        return {"otel": otel}

    def otel_sdk() -> dict[str, Any]:
        aicmo_gateway_otel.configure(batch)
        return {"otel": otel}

    def both() -> dict[str, Any]:
        return {**prometheus(), **otel_sdk()}

    return {
        "no observer": none,
        "prometheus": prometheus,
        "otel, no-op provider": otel_noop,
        "otel, SDK, batch": otel_sdk,
        "both": both,
    }


async def _drive(gateway: Gateway, calls: int) -> float:
    verify = gateway.email_verification.verify
    for _ in range(50):  # warm-up
        await verify(ADDRESS)
    start = time.perf_counter()
    for _ in range(calls):
        await verify(ADDRESS)
    elapsed = time.perf_counter() - start
    await gateway.aclose()
    return elapsed / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    batch = TracerProvider()
    batch.add_span_processor(BatchSpanProcessor(InMemorySpanExporter(), max_queue_size=100_000))
    sets = _sets(batch)
    print(f"{describe()}, {args.calls} calls per round, {args.rounds} rounds\n")
    print("| chain | observers | µs per call, best | median | best vs no observer |")
    print("|---|---|---:|---:|---:|")
    for chain in ("one attempt", "failover"):
        times: dict[str, list[float]] = {name: [] for name in sets}
        for _ in range(args.rounds):
            for name, setup in sets.items():
                observers = setup()
                times[name].append(asyncio.run(_drive(_gateway(chain, observers), args.calls)))
        base = min(times["no observer"])
        for name, runs in times.items():
            best, median = min(runs), statistics.median(runs)
            print(
                f"| {chain} | {name} | {best * 1e6:.1f} | {median * 1e6:.1f} | {best / base:.2f} |"
            )
    aicmo_gateway_otel.configure(enabled=False)
    aicmo_gateway_prometheus.configure(enabled=False)
    batch.shutdown()


if __name__ == "__main__":
    main()
