"""What every system under test shares: the worlds (fakes), the load, the trace, the metrics.

A *world* is a set of :class:`FakeProvider` objects scripted by profiles; the chain and the
peers are driven against identical worlds. Each provider's profile is wrapped in
:class:`Recorded`, which logs every attempt's time and counts it against the call in flight
(a context variable), so attempts are counted the same way whatever the system.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import statistics
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import attrs

from aicmo_gateway.ports import EmailMessage, Lead
from aicmo_gateway.testing import FakeProvider
from aicmo_gateway.testing.profiles import CallInfo, Profile, Step
from aicmo_gateway.testing.virtual_time import VirtualEventLoop

#: calls per second of the open-loop load in every time-based scenario (the issue's figure)
RATE = 50.0
#: latency of a healthy fake provider, seconds
BASE_LATENCY = 0.05


@dataclass
class Call:
    """One user call as the benchmark saw it."""

    index: int
    start: float
    end: float = 0.0
    ok: bool = False
    status: str = ""
    served_by: str | None = None
    #: provider -> attempts that reached it during this call
    attempts: Counter[str] = field(default_factory=Counter)
    #: providers the system skipped without an attempt (open breaker, cooldown)
    skipped: set[str] = field(default_factory=set)

    @property
    def latency(self) -> float:
        return self.end - self.start


CURRENT: contextvars.ContextVar[Call | None] = contextvars.ContextVar("bench_call", default=None)

#: a system's way to perform call ``i`` of a scenario, filling in the :class:`Call`
Caller = Callable[[int, Call], Awaitable[None]]


@attrs.define
class Recorded:
    """A profile wrapper: logs each attempt's loop time and counts it for the current call."""

    inner: Profile
    name: str
    log: list[float] = attrs.field(factory=list)

    def step(self, call: CallInfo) -> Step:
        self.log.append(asyncio.get_running_loop().time())
        current = CURRENT.get()
        if current is not None:
            current.attempts[self.name] += 1
        return self.inner.step(call)


def world(**profiles: Profile) -> dict[str, FakeProvider]:
    """Fakes named as the keywords, in that (chain) order, each profile wrapped in Recorded."""
    return {name: FakeProvider(Recorded(p, name), name=name) for name, p in profiles.items()}


def attempt_times(fake: FakeProvider) -> list[float]:
    assert isinstance(fake.profile, Recorded)
    return fake.profile.log


# -- payloads ---------------------------------------------------------------------------


def message(i: int) -> EmailMessage:
    return EmailMessage(
        to=f"lead{i}@example.com",
        subject=f"Offer {i}",
        text="Hello",
        sender="sales@example.com",
        message_id=f"<bench-{i}@example.com>",
    )


def address(i: int) -> str:
    return f"lead{i}@example.com"


def lead(i: int) -> Lead:
    return Lead(email=address(i))


PAYLOADS: dict[str, Callable[[int], Any]] = {
    "email_sending": message,
    "email_verification": address,
    "lead_enrichment": lead,
}
OPERATIONS = {"email_sending": "send", "email_verification": "verify", "lead_enrichment": "enrich"}


# -- load -------------------------------------------------------------------------------


async def _one(caller: Caller, call: Call, now: Callable[[], float]) -> None:
    CURRENT.set(call)
    try:
        await caller(call.index, call)
    except Exception as exc:  # a peer raises what a user would see
        call.ok, call.status = False, type(exc).__name__
    call.end = now()


async def open_loop(caller: Caller, *, duration: float, rate: float = RATE) -> list[Call]:
    """Start a call every ``1/rate`` seconds for ``duration`` seconds, whatever the answers."""
    loop = asyncio.get_running_loop()
    t0, calls, tasks = loop.time(), [], []
    for i in range(round(duration * rate)):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        call = Call(i, loop.time())
        calls.append(call)
        tasks.append(asyncio.create_task(_one(caller, call, loop.time)))
    await asyncio.gather(*tasks)
    return calls


async def closed_loop(caller: Caller, *, until: float) -> list[Call]:
    """One caller, one call after another, until loop time ``until``."""
    loop = asyncio.get_running_loop()
    calls: list[Call] = []
    while loop.time() < until:
        call = Call(len(calls), loop.time())
        calls.append(call)
        await _one(caller, call, loop.time)
    return calls


async def sequential(caller: Caller, count: int, first: int = 0) -> list[Call]:
    """``count`` calls, one after another."""
    loop = asyncio.get_running_loop()
    calls = []
    for i in range(count):
        call = Call(first + i, loop.time())
        calls.append(call)
        await _one(caller, call, loop.time)
    return calls


async def burst(caller: Caller, count: int, first: int = 0) -> list[Call]:
    """``count`` calls started at the same instant."""
    loop = asyncio.get_running_loop()
    calls = [Call(first + i, loop.time()) for i in range(count)]
    await asyncio.gather(*(_one(caller, c, loop.time) for c in calls))
    return calls


# -- metrics ----------------------------------------------------------------------------


def first_skip(calls: list[Call], name: str, after: float = 0.0) -> float | None:
    """Start time of the first call that skipped ``name`` without an attempt."""
    times = [c.start for c in calls if c.start >= after and name in c.skipped]
    return min(times, default=None)


def recovery_time(
    calls: list[Call], name: str, up_at: float, *, window: float = 1.0, share: float = 0.9
) -> float | None:
    """Seconds after ``up_at`` from which every ``window`` of calls is ≥ ``share`` served by
    ``name``. ``None``: never within the run."""
    after = sorted((c for c in calls if c.start >= up_at), key=lambda c: c.start)
    if not after:
        return None
    starts = [c.start for c in after]
    served = [0]
    for c in after:
        served.append(served[-1] + (c.served_by == name))
    last_bad = -1
    for i, t in enumerate(starts):
        j = bisect.bisect_left(starts, t + window)
        if (served[j] - served[i]) / (j - i) < share:
            last_bad = i
    if last_bad == len(after) - 1:
        return None
    return after[last_bad + 1].start - up_at if last_bad >= 0 else 0.0


def clusters(times: list[float], gap: float = 1.0) -> list[int]:
    """Sizes of groups of attempt times separated by more than ``gap`` seconds."""
    sizes: list[int] = []
    last = None
    for t in sorted(times):
        if last is None or t - last > gap:
            sizes.append(0)
        sizes[-1] += 1
        last = t
    return sizes


def summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "mean": None, "median": None, "max": None}
    return {
        "n": len(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "max": max(values),
    }


def statuses(calls: list[Call]) -> dict[str, int]:
    return dict(Counter(c.status for c in calls))


# -- aiobreaker on the virtual clock ------------------------------------------------------

_EPOCH = datetime(2025, 1, 1)  # aiobreaker compares naive datetimes


class _VirtualDatetime(datetime):
    """``datetime`` whose ``now``/``utcnow`` follow a running VirtualEventLoop's clock."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if isinstance(loop, VirtualEventLoop):
            return _EPOCH + timedelta(seconds=loop.time())
        return datetime.now(tz)

    @classmethod
    def utcnow(cls) -> datetime:  # type: ignore[override]
        return cls.now()


@contextlib.contextmanager
def aiobreaker_virtual_time() -> Iterator[None]:
    """Make aiobreaker read the virtual clock (it calls ``datetime.now``/``utcnow``).

    freezegun-style: the ``datetime`` name in aiobreaker's two modules is swapped for a
    subclass whose clock methods read ``loop.time()`` on a VirtualEventLoop, and real
    time anywhere else. Restored on exit.
    """
    import aiobreaker.circuitbreaker as cb_module
    import aiobreaker.state as state_module

    saved = cb_module.datetime, state_module.datetime
    cb_module.datetime = state_module.datetime = _VirtualDatetime  # type: ignore[misc]
    try:
        yield
    finally:
        cb_module.datetime, state_module.datetime = saved  # type: ignore[misc]


def hard_down_figures(calls: list[Call], times: list[float], down_for: float) -> dict[str, Any]:
    """The hard-down measures from the calls and the primary's attempt times."""
    skip = first_skip(calls, "primary")
    back = min(
        (c.start for c in calls if c.served_by == "primary" and c.start >= down_for), default=None
    )
    probes = [t for t in times if skip is not None and skip <= t and (back is None or t <= back)]
    return {
        "down_for_s": down_for,
        "calls": len(calls),
        "failures": sum(not c.ok for c in calls),
        "wasted_before_skip": sum(t < skip for t in times) if skip is not None else len(times),
        "first_skip_at_s": skip,
        "recovery_s": recovery_time(calls, "primary", down_for),
        "first_served_after_up_s": None if back is None else back - down_for,
        "probes_during_outage": len(probes),
        "max_probes_per_open_interval": max(clusters(probes), default=0),
        "primary_attempts_while_down": sum(t < down_for for t in times),
    }
