"""The shared state stores against memory, in the same run: per-call overhead, round trips
and throughput.

For each ``[gateway] store`` (``memory``, ``sqlite:///`` a file in a temporary folder,
``redis://`` the local server, a namespace of its own deleted afterwards), a gateway with
one provider that answers at once:

- **per call**: ``N`` sequential calls, wall time per call (the Redis store waits on the
  network, which CPU time would not count), median of 5 runs; the overhead is the time
  above the memory store's in the same run. A read (``email_verification.verify``) asks
  the store once per attempt (the permit); a write with a key (``email_sending.send``)
  also claims the key and records its outcome.
- **round trips** (Redis): scripts the server ran per call (``INFO commandstats``),
  counting the claim, the permit and the outcome's record, awaited or not.
- **throughput**: 1,000 calls started together on one event loop, calls/s, median of 3.

    python -m benchmarks.stores [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aicmo_gateway import Gateway
from aicmo_gateway.testing import fake_config, fake_registry
from benchmarks.common import OPERATIONS, PAYLOADS
from benchmarks.overhead import Instant, Yielding

REDIS = "redis://127.0.0.1:6379/0"
RUNS = 5
CONCURRENT = 1000
CAPABILITIES = ("email_verification", "email_sending")

Fn = Callable[[Any], Awaitable[Any]]


def _gateway(store: str, name: str, capability: str, provider: Any) -> Gateway:
    config = fake_config(capability, "primary")
    config["gateway"] = {"store": store, "name": name}
    return Gateway.from_config(config, registry=fake_registry(primary=provider), env={})


def _call(gateway: Gateway, capability: str) -> Fn:
    method = getattr(getattr(gateway, capability), OPERATIONS[capability])
    if capability == "email_sending":
        counter = iter(range(10**9))

        async def keyed(message: Any) -> Any:
            return await method(message, idempotency_key=f"k{next(counter)}")

        return keyed
    return method  # type: ignore[no-any-return]


async def _sequential(fn: Fn, payloads: list[Any]) -> float:
    start = time.perf_counter()
    for item in payloads:
        outcome = await fn(item)
        assert outcome.ok, outcome.reason
    return (time.perf_counter() - start) / len(payloads)


async def _scripts_run() -> int:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS, decode_responses=True)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return sum(
        int(v["calls"]) for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval")
    )


async def _store_run(store: str, capability: str, n: int) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    payload = PAYLOADS[capability]
    gateway = _gateway(store, name, capability, Instant())
    fn = _call(gateway, capability)
    offset = 0

    def fresh(count: int) -> list[Any]:
        nonlocal offset
        offset += count
        return [payload(i) for i in range(offset - count, offset)]

    try:
        await _sequential(fn, fresh(200))  # warm-up (scripts loaded, connections made)
        runs = []
        for _ in range(RUNS):
            items = fresh(n)
            gc.collect()
            runs.append(await _sequential(fn, items))
        trips = None
        if store.startswith("redis"):
            assert gateway.store is not None
            await gateway.store.flush()
            before = await _scripts_run()
            await _sequential(fn, fresh(200))
            await gateway.store.flush()
            trips = (await _scripts_run() - before) / 200
        out: dict[str, Any] = {"per_call_us": statistics.median(runs) * 1e6, "runs_us": runs}
        if trips is not None:
            out["scripts_per_call"] = trips
        return out
    finally:
        await gateway.aclose()
        if store.startswith("redis"):
            await _forget(name)


async def _throughput(store: str, capability: str) -> float:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    payload = PAYLOADS[capability]
    gateway = _gateway(store, name, capability, Yielding())
    fn = _call(gateway, capability)
    try:
        first = 0
        rates = []
        for run in range(4):  # the first is a warm-up
            items = [payload(i) for i in range(first, first + CONCURRENT)]
            first += CONCURRENT
            gc.collect()
            start = time.perf_counter()
            outcomes = await asyncio.gather(*(fn(p) for p in items))
            elapsed = time.perf_counter() - start
            assert all(o.ok for o in outcomes)
            if run:
                rates.append(CONCURRENT / elapsed)
        return statistics.median(rates)
    finally:
        await gateway.aclose()
        if store.startswith("redis"):
            await _forget(name)


async def _round_trip() -> float:
    """One bare Redis round trip from this process (``PING``), µs, median of 5 runs."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS)
    try:
        for _ in range(200):
            await client.ping()
        runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            for _ in range(500):
                await client.ping()
            runs.append((time.perf_counter() - start) / 500)
        return statistics.median(runs) * 1e6
    finally:
        await client.aclose()


async def _forget(name: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS)
    try:
        keys = [k async for k in client.scan_iter(match=f"aicmo:{name}:*", count=1000)]
        for i in range(0, len(keys), 500):
            await client.delete(*keys[i : i + 500])
    finally:
        await client.aclose()


def run(*, n: int = 2000) -> dict[str, Any]:
    """Per-call time, overhead over memory, Redis scripts per call and throughput."""
    with tempfile.TemporaryDirectory() as folder:
        stores = {
            "memory": "memory",
            "sqlite": f"sqlite:///{Path(folder) / 'state.db'}",
            "redis": REDIS,
        }
        if not _redis_answers():
            print("Redis at 127.0.0.1:6379 does not answer: its rows are left out", file=sys.stderr)
            del stores["redis"]
        out: dict[str, Any] = {}
        for capability in CAPABILITIES:
            rows: dict[str, Any] = {}
            for label, url in stores.items():
                rows[label] = asyncio.run(_store_run(url, capability, n))
                rows[label]["calls_per_s"] = asyncio.run(_throughput(url, capability))
            base = rows["memory"]["per_call_us"]
            for label in stores:
                rows[label]["overhead_vs_memory_us"] = rows[label]["per_call_us"] - base
                rows[label]["time_ratio_vs_memory"] = rows[label]["per_call_us"] / base
            out[capability] = rows
        if "redis" in stores:
            out["redis_round_trip_us"] = asyncio.run(_round_trip())
        return out


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def table(results: dict[str, Any]) -> str:
    lines = [
        "| capability | store | µs per call | over memory | x memory | Redis scripts per call "
        "| calls/s (1,000 at once) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for capability, rows in results.items():
        if capability not in CAPABILITIES:
            continue
        for label, row in rows.items():
            scripts = row.get("scripts_per_call")
            lines.append(
                f"| {capability} | {label} | {row['per_call_us']:.0f} | "
                f"{row['overhead_vs_memory_us']:+.0f} | {row['time_ratio_vs_memory']:.1f} | "
                f"{'-' if scripts is None else f'{scripts:.2f}'} | {row['calls_per_s']:,.0f} |"
            )
    trip = results.get("redis_round_trip_us")
    if trip is not None:
        lines.append(f"\none bare Redis round trip (PING) from the same process: {trip:.0f} µs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stores")
    parser.add_argument("--quick", action="store_true", help="fewer calls per run")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    results = run(n=500 if args.quick else 2000)
    print(table(results))
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
