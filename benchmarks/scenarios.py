"""The scenarios, on the virtual clock, for any system; and our chain as a system.

Each scenario builds a fresh world of fakes, asks a *system* for a caller over it, drives a
load on the virtual clock (``run_virtual``) and returns its metrics as a dict. A system is
an object with ``label``, ``context()`` (entered around the run) and
``build(capability, fakes, variant) -> Caller``. :class:`Ours` is the chain built from
config with default settings; ``variant`` adds the few settings a row states
(``{"chain": {...}, "providers": {name: {...}}, "idempotency": ...}``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from aicmo_gateway import Action, Gateway, Status
from aicmo_gateway.testing import FakeProvider, fake_config, fake_registry, run_virtual
from aicmo_gateway.testing.profiles import (
    accept_then_timeout,
    black_hole,
    down_between,
    fast_failure,
    healthy,
    phases,
    rate_limited,
    sequence,
)
from benchmarks.common import (
    BASE_LATENCY,
    OPERATIONS,
    PAYLOADS,
    Call,
    Caller,
    attempt_times,
    burst,
    closed_loop,
    first_skip,
    hard_down_figures,
    open_loop,
    sequential,
    statuses,
    summary,
    world,
)

T = TypeVar("T")
Variant = dict[str, Any]


class System(Protocol):
    label: str

    def context(self) -> contextlib.AbstractContextManager[Any]: ...

    def build(
        self, capability: str, fakes: dict[str, FakeProvider], variant: Variant
    ) -> Caller: ...


class Ours:
    """aicmo-gateway: ``Gateway.from_config(fake_config(...))``, defaults unless a variant says."""

    label = "aicmo-gateway"

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def build(self, capability: str, fakes: dict[str, FakeProvider], variant: Variant) -> Caller:
        config = fake_config(capability, *fakes, **variant.get("chain", {}))
        for name, extra in variant.get("providers", {}).items():
            for target in fakes if name == "*" else [name]:
                config["providers"][target].update(extra)
        gateway = Gateway.from_config(
            config,
            registry=fake_registry(fakes, idempotency=variant.get("idempotency")),
            env={},
        )
        method = getattr(getattr(gateway, capability), OPERATIONS[capability])
        payload = PAYLOADS[capability]

        async def call(i: int, c: Call) -> None:
            outcome = await method(payload(i))
            c.status = outcome.status.value
            c.ok = outcome.status is Status.OK
            c.served_by = outcome.provider if c.ok else None
            c.skipped.update(a.provider for a in outcome.attempts if a.action is Action.SKIP)

        return call


def drive(system: System, coro: Coroutine[Any, Any, T]) -> T:
    random.seed(0)  # the chain's and tenacity's backoff jitter use the global generator
    with system.context():
        return run_virtual(coro)


# -- the scenarios ----------------------------------------------------------------------


def hard_down(system: System, variant: Variant, down_for: float = 60.0) -> dict[str, Any]:
    """Primary fails fast from 0 to ``down_for`` s, then is healthy; secondary healthy; 50/s."""
    fakes = world(
        primary=down_between(0.0, down_for, up=healthy(BASE_LATENCY)),
        secondary=healthy(BASE_LATENCY),
    )
    caller = system.build("email_sending", fakes, variant)
    calls = drive(system, open_loop(caller, duration=down_for + 160.0))
    times = attempt_times(fakes["primary"])
    return hard_down_figures(calls, times, down_for)


def black_holed(system: System, variant: Variant, load: str = "open") -> dict[str, Any]:
    """Primary never answers (reads); secondary healthy. ``load``: 50/s open loop or one caller."""
    fakes = world(primary=black_hole(), secondary=healthy(BASE_LATENCY))
    caller = system.build("email_verification", fakes, variant)
    if load == "open":
        calls = drive(system, open_loop(caller, duration=60.0))
    else:
        calls = drive(system, closed_loop(caller, until=120.0))
    affected = [c for c in calls if c.attempts["primary"] and c.served_by != "primary"]
    isolated = first_skip(calls, "primary")
    return {
        "load": load,
        "calls": len(calls),
        "affected_before_isolation": sum(isolated is None or c.start < isolated for c in affected),
        "affected": len(affected),
        "failures": sum(not c.ok for c in calls),
        "isolated_at_s": isolated,
        "added_latency_s": summary([c.latency - BASE_LATENCY for c in affected]),
        "primary_attempts": len(attempt_times(fakes["primary"])),
    }


def brownout(system: System, variant: Variant, load: str = "open") -> dict[str, Any]:
    """From 10 s the primary answers 10x slower (0.05 -> 0.5 s), no errors; secondary 0.05 s."""
    start = 10.0
    fakes = world(
        primary=phases([(start, healthy(BASE_LATENCY))], then=healthy(10 * BASE_LATENCY)),
        secondary=healthy(BASE_LATENCY),
    )
    caller = system.build("email_verification", fakes, variant)
    if load == "open":
        calls = drive(system, open_loop(caller, duration=60.0))
    else:
        calls = drive(system, closed_loop(caller, until=60.0))
    during = [c for c in calls if c.start >= start]
    slow = [c for c in during if c.served_by == "primary" and c.latency > 5 * BASE_LATENCY]
    demoted = min((c.start for c in during if not c.attempts["primary"]), default=None)
    return {
        "load": load,
        "calls_during_brownout": len(during),
        "slow_before_demotion": sum(demoted is None or c.start < demoted for c in slow),
        "demoted_after_s": None if demoted is None else demoted - start,
        "slow_total": len(slow),
        "failures": sum(not c.ok for c in calls),
    }


def all_down(system: System, variant: Variant) -> dict[str, Any]:
    """Three providers, all failing fast, each allowed 3 attempts; 50 calls/s for 120 s."""
    names = ("p1", "p2", "p3")
    fakes = world(**{n: fast_failure() for n in names})
    caller = system.build("email_verification", fakes, variant)
    calls = drive(system, open_loop(caller, duration=120.0))
    first = [c for c in calls if c.start < 1.0]
    opened = min(
        (c.start for c in calls if not sum(c.attempts.values()) and c.skipped >= set(names)),
        default=None,
    )
    after = [c for c in calls if opened is not None and c.start >= opened]
    return {
        "calls": len(calls),
        "attempts_per_call_first_second": sum(sum(c.attempts.values()) for c in first) / len(first),
        "all_open_at_s": opened,
        "attempts_per_call_once_open": (
            sum(sum(c.attempts.values()) for c in after) / len(after) if after else None
        ),
        "attempts_once_open": sum(sum(c.attempts.values()) for c in after),
        "time_to_fail_once_open_s": summary([c.latency for c in after]),
        "statuses": statuses(calls),
    }


def half_open_rush(system: System, variant: Variant, callers: int = 50) -> dict[str, Any]:
    """The primary trips, recovers (0.5 s answers), and 50 callers arrive once it may probe."""
    fakes = world(
        primary=phases([(10.0, fast_failure())], then=healthy(0.5)),
        secondary=healthy(BASE_LATENCY),
    )
    caller = system.build("email_sending", fakes, variant)
    times = attempt_times(fakes["primary"])

    async def scenario() -> tuple[int, list[Call]]:
        await sequential(caller, 5)  # trips the primary's breaker (both systems: 5 failures)
        await asyncio.sleep(31.0)  # past the 30 s open period (ours and aiobreaker's)
        tripped = len(times)
        return tripped, await burst(caller, callers, first=100)

    tripped, rush = drive(system, scenario())
    return {
        "callers": callers,
        "attempts_to_trip": tripped,
        "let_through": len(times) - tripped,
        "served_by_primary": sum(c.served_by == "primary" for c in rush),
        "failures": sum(not c.ok for c in rush),
    }


def retry_after(system: System, variant: Variant, window: float = 20.0) -> dict[str, Any]:
    """The primary answers 429 with retry-after 20 s for 20 s; 50 calls/s for 40 s."""
    fakes = world(
        primary=phases([(window, rate_limited(window))], then=healthy(BASE_LATENCY)),
        secondary=healthy(BASE_LATENCY),
    )
    caller = system.build("email_sending", fakes, variant)
    calls = drive(system, open_loop(caller, duration=2 * window))
    times = attempt_times(fakes["primary"])
    t0 = times[0]
    back = min((c.start for c in calls if c.served_by == "primary"), default=None)
    return {
        "first_429_at_s": t0,
        "sent_inside_window": sum(t0 < t < t0 + window for t in times),
        "back_on_primary_after_window_s": None if back is None else back - (t0 + window),
        "failures": sum(not c.ok for c in calls),
    }


def ambiguous_write(
    system: System,
    variant: Variant,
    *,
    hang: bool = False,
    once: bool = False,
    idempotent: bool = False,
) -> dict[str, Any]:
    """The primary performs the send, then times out (``hang``: never answers); 50/s for 10 s."""
    bad = accept_then_timeout(1.0, hang=hang)
    fakes = world(
        primary=sequence(bad, then=healthy(BASE_LATENCY)) if once else bad,
        secondary=healthy(BASE_LATENCY),
    )
    for fake in fakes.values():
        fake.honours_idempotency = idempotent
    caller = system.build("email_sending", fakes, variant)
    calls = drive(system, open_loop(caller, duration=10.0))
    performed = Counter(key for f in fakes.values() for _, key in f.performed)
    return {
        "calls": len(calls),
        "duplicate_side_effects": sum(n - 1 for n in performed.values() if n > 1),
        "calls_duplicated": sum(n > 1 for n in performed.values()),
        "calls_not_performed": len(calls) - len(performed),
        "statuses": statuses(calls),
    }


# -- the rows ---------------------------------------------------------------------------

RETRY_3 = {"chain": {"retries": 2, "on_error": {"Unavailable": "retry"}}}
SLOW = {"providers": {"*": {"health": {"slow_call_seconds": 0.25}}}}
HEALTH_ORDER = {"chain": {"order": "health"}}
IDEMPOTENT = {
    "idempotency": "key_header",
    "chain": {"retries": 1, "on_error": {"Ambiguous": "retry"}},
}
#: outage lengths; each ends mid-way through an open period of both breakers (trip at ~0.1 s),
#: so the recovery lag is typical rather than a lucky zero or a worst case
DOWN_FOR = (22.5, 62.5, 102.5)


def run_system(system: System, *, ours: bool) -> dict[str, Any]:
    """Every scenario on ``system``; with ``ours``, the stated config variants as well."""
    d: Variant = {}
    out: dict[str, Any] = {
        "hard_down": {f"{s:g}s": hard_down(system, d, s) for s in DOWN_FOR},
        "black_hole": {load: black_holed(system, d, load) for load in ("open", "closed")},
        "brownout": {load: brownout(system, d, load) for load in ("open", "closed")},
        "all_down": all_down(system, RETRY_3 if ours else d),
        "half_open": half_open_rush(system, d),
        "retry_after": retry_after(system, d),
        "ambiguous_write": {
            "error": ambiguous_write(system, d),
            "hang": ambiguous_write(system, d, hang=True),
        },
    }
    if ours:
        out["hard_down_open_max_5s"] = {
            f"{s:g}s": hard_down(
                system, {"providers": {"*": {"health": {"open_max_seconds": 5}}}}, s
            )
            for s in DOWN_FOR
        }
        out["black_hole_hedge"] = {
            load: black_holed(system, {"chain": {"strategy": "hedge"}}, load)
            for load in ("open", "closed")
        }
        for name, v in (
            ("health_order", HEALTH_ORDER),
            ("slow_call_seconds", SLOW),
            ("health_order+slow_call_seconds", {**SLOW, **HEALTH_ORDER}),
        ):
            out[f"brownout[{name}]"] = {
                load: brownout(system, v, load) for load in ("open", "closed")
            }
        out["ambiguous_write[idempotent]"] = {
            "times_out_once": ambiguous_write(system, IDEMPOTENT, once=True, idempotent=True),
            "always_times_out": ambiguous_write(system, IDEMPOTENT, idempotent=True),
        }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run_system(Ours(), ours=True), indent=1, default=str))
