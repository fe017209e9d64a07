"""Real-clock cost of the chain: per-call overhead over a direct call, and throughput.

- Overhead: one provider whose method returns a prebuilt record at once; ``N`` sequential
  calls through each system and ``N`` direct calls to the provider, in the same run. The
  overhead is (system - direct) per call; the figure is the median of 5 runs.
- Throughput: 1,000 calls started together (``asyncio.gather``) on a healthy two-provider
  chain whose provider yields once (``await asyncio.sleep(0)``) so all 1,000 are in flight
  at once; calls/s on one event loop (one core), median of 15 batches, the systems taking
  turns batch by batch (each after a full collection). Peak memory: a separate batch under
  ``tracemalloc``, peak traced bytes above the level before it.

Payloads are built before timing. Writes use distinct messages (a repeated message would
be answered from the idempotency ledger without reaching the provider).

Time is the process's CPU time (``time.process_time``): nothing here waits on I/O, so it is
what the calls cost, and other processes on a shared machine do not count against either
system (wall time on a busy 2-CPU machine moved the composition's read overhead from 24 to
50 µs between two runs).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

from aicmo_gateway import Gateway
from aicmo_gateway.ports import SendReceipt, Verdict, Verification
from aicmo_gateway.testing import fake_config, fake_registry
from benchmarks.common import OPERATIONS, PAYLOADS
from benchmarks.peers import MESSAGES, compose

RUNS = 5
#: bursts of 1,000 per system in the throughput figure (they spread more than sequential runs)
BATCHES = 15
KEYED = "aicmo-gateway, idempotency_key given"
CONCURRENT = 1000
CAPABILITIES = ("email_verification", "email_sending")  # a read and a write

_VERIFIED = Verification(address="lead@example.com", verdict=Verdict.DELIVERABLE, reason="ok")
_RECEIPT = SendReceipt(message_id="<m@example.com>", provider_message_id="x", accepted=("a@b.c",))


class Instant:
    """A provider that answers at once with a prebuilt record."""

    honours_idempotency = False

    async def verify(self, address: str) -> Verification:
        return _VERIFIED

    async def send(self, message: Any) -> SendReceipt:
        return _RECEIPT


class Yielding(Instant):
    """Answers after yielding to the loop once, so concurrent calls are really in flight."""

    async def verify(self, address: str) -> Verification:
        await asyncio.sleep(0)
        return _VERIFIED

    async def send(self, message: Any) -> SendReceipt:
        await asyncio.sleep(0)
        return _RECEIPT


Fn = Callable[[Any], Awaitable[Any]]


def ours(capability: str, providers: dict[str, Any]) -> Fn:
    gateway = Gateway.from_config(
        fake_config(capability, *providers), registry=fake_registry(providers), env={}
    )
    return getattr(getattr(gateway, capability), OPERATIONS[capability])  # type: ignore[no-any-return]


def composition(capability: str, providers: dict[str, Any]) -> Fn:
    return compose(providers, OPERATIONS[capability], PAYLOADS[capability]).perform  # type: ignore[attr-defined,no-any-return]


def direct(capability: str, providers: dict[str, Any]) -> Fn:
    return getattr(next(iter(providers.values())), OPERATIONS[capability])  # type: ignore[no-any-return]


SYSTEMS: dict[str, Callable[[str, dict[str, Any]], Fn]] = {
    "direct": direct,
    "aicmo-gateway": ours,
    "tenacity+aiobreaker+timeout": composition,
}


#: the clock of every overhead and throughput figure: CPU seconds of this process
CLOCK = time.process_time


async def _sequential(fn: Fn, payloads: list[Any]) -> float:
    start = CLOCK()
    for item in payloads:
        await fn(item)
    return (CLOCK() - start) / len(payloads)


async def _sequential_keyed(fn: Callable[..., Awaitable[Any]], payloads: list[Any]) -> float:
    """:func:`_sequential` for a send with its key given (the message's Message-ID), passed
    in the loop itself: no wrapper coroutine of the benchmark's counts against the call."""
    start = CLOCK()
    for item in payloads:
        await fn(item, idempotency_key=item.message_id)
    return (CLOCK() - start) / len(payloads)


async def _overhead(capability: str, n: int) -> dict[str, Any]:
    payload = PAYLOADS[capability]
    fns = {name: make(capability, {"primary": Instant()}) for name, make in SYSTEMS.items()}
    if capability == "email_sending":  # the same write with the key given: no key derivation
        fns[KEYED] = ours(capability, {"primary": Instant()})
    batch = 0
    per_call: dict[str, list[float]] = {name: [] for name in fns}
    loops = {name: _sequential_keyed if name == KEYED else _sequential for name in fns}
    for name, fn in fns.items():  # warm-up
        await loops[name](fn, [payload(i) for i in range(batch, batch + 200)])
        batch += 200
    for _ in range(RUNS):
        for name, fn in fns.items():
            payloads = [payload(i) for i in range(batch, batch + n)]
            batch += n
            gc.collect()
            per_call[name].append(await loops[name](fn, payloads))
    return _overhead_summary(per_call)


def _overhead_summary(per_call: dict[str, list[float]]) -> dict[str, Any]:
    base = per_call["direct"]
    out: dict[str, Any] = {"direct_us": statistics.median(base) * 1e6}
    for name, values in per_call.items():
        if name == "direct":
            continue
        over = [(v - b) * 1e6 for v, b in zip(values, base, strict=True)]
        out[name] = {
            "per_call_us": statistics.median(values) * 1e6,
            "overhead_us": statistics.median(over),
            "overhead_runs_us": over,
        }
    return out


async def _batch(fn: Fn, payloads: list[Any]) -> float:
    start = CLOCK()
    results = await asyncio.gather(*(fn(p) for p in payloads))
    elapsed = CLOCK() - start
    assert len(results) == len(payloads)
    return elapsed


async def _throughput(name: str, fn: Fn, payload: Callable[[int], Any]) -> dict[str, Any]:
    first = 0

    def fresh() -> list[Any]:
        nonlocal first
        first += CONCURRENT
        return [payload(i) for i in range(first, first + CONCURRENT)]

    await _batch(fn, fresh())  # warm-up
    rates = []
    for _ in range(RUNS):
        items = fresh()
        gc.collect()
        rates.append(CONCURRENT / await _batch(fn, items))
    items = fresh()
    gc.collect()
    return {"calls_per_s": statistics.median(rates), "peak_mib": await _peak_mib(fn, items)}


async def _throughputs(capability: str) -> dict[str, Any]:
    """Every system's bursts, taking turns: batch ``i`` of each system runs in round ``i``
    (the order rotating from round to round), so a change in the machine's load hits all
    of them alike; each batch starts after a full collection, for each system the same."""
    payload = PAYLOADS[capability]
    fns = {
        name: make(capability, {"primary": Yielding(), "secondary": Yielding()})
        for name, make in SYSTEMS.items()
    }
    first = 0

    def fresh() -> list[Any]:
        nonlocal first
        first += CONCURRENT
        return [payload(i) for i in range(first, first + CONCURRENT)]

    for fn in fns.values():  # warm-up
        await _batch(fn, fresh())
    rates: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for i in range(BATCHES):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            items = fresh()
            gc.collect()
            rates[name].append(CONCURRENT / await _batch(fns[name], items))
    out: dict[str, Any] = {}
    for name, fn in fns.items():
        items = fresh()
        gc.collect()
        out[name] = {
            "calls_per_s": statistics.median(rates[name]),
            "rates": rates[name],
            "peak_mib": await _peak_mib(fn, items),
        }
    return out


async def _peak_mib(fn: Fn, items: list[Any]) -> float:
    """Peak traced memory of one batch under ``tracemalloc``, above the level before it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await _batch(fn, items)
        return (tracemalloc.get_traced_memory()[1] - before) / 2**20
    finally:
        tracemalloc.stop()


# -- LiteLLM -------------------------------------------------------------------------------


def _mock_router() -> tuple[Fn, Fn]:
    from benchmarks.peers import _litellm

    litellm = _litellm()
    params = {"model": "openai/gpt-4o-mini", "api_key": "sk-bench", "mock_response": "ok"}
    router = litellm.Router(
        model_list=[
            {"model_name": "primary", "litellm_params": params},
            {"model_name": "secondary", "litellm_params": params},
        ],
        fallbacks=[{"primary": ["secondary"]}],
    )

    async def routed(_: Any) -> Any:
        return await router.acompletion(model="primary", messages=MESSAGES)

    async def direct_call(_: Any) -> Any:
        return await litellm.acompletion(messages=MESSAGES, **params)

    return routed, direct_call


async def _litellm(n: int) -> dict[str, Any]:
    routed, direct_call = _mock_router()
    for fn in (direct_call, routed):
        await _sequential(fn, [None] * 50)
    per_call: dict[str, list[float]] = {"direct": [], "litellm Router": []}
    for _ in range(RUNS):
        gc.collect()
        per_call["direct"].append(await _sequential(direct_call, [None] * n))
        gc.collect()
        per_call["litellm Router"].append(await _sequential(routed, [None] * n))
    overhead = _overhead_summary(per_call)
    overhead["direct_is"] = "litellm.acompletion(mock_response=...)"
    return {
        "overhead": overhead,
        "throughput": await _throughput("litellm", routed, lambda i: None),
    }


def run(*, n: int = 5000) -> dict[str, Any]:
    """Overhead and throughput of our chain and the composition (LiteLLM not imported)."""
    return {
        "overhead": {cap: asyncio.run(_overhead(cap, n)) for cap in CAPABILITIES},
        "throughput": {cap: asyncio.run(_throughputs(cap)) for cap in CAPABILITIES},
    }


def run_litellm(n: int = 300) -> dict[str, Any]:
    """LiteLLM Router's overhead over ``litellm.acompletion`` (mock) and its throughput."""
    return asyncio.run(_litellm(n))


if __name__ == "__main__":
    import json

    print(json.dumps({**run(), "litellm": run_litellm()}, indent=1))
