"""Behaviour profiles for :class:`~aicmo_gateway.testing.fakes.FakeProvider`.

A profile decides, for each call, what the fake does: wait some latency, then succeed, raise,
never answer, or perform the side effect and then raise or never answer. It decides from the
call (its number, its operation) and the *profile time*: seconds since the fake's origin on
the running loop's clock, so under :func:`~aicmo_gateway.testing.virtual_time.run_virtual`
``down_between(60, 120)`` means virtual seconds 60 to 120.

Profiles keep state (seeded random generators, quota counters): give each fake its own, by
calling the builder once per fake. Everything random is seeded, so a run is reproducible.
Write your own by implementing :class:`Profile` (one method, ``step``).
"""

from __future__ import annotations

import enum
import itertools
import math
import random
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Protocol

import attrs

from aicmo_gateway.errors import Ambiguous, QuotaExhausted, RateLimited, Unavailable
from aicmo_gateway.testing.virtual_time import wall_now

__all__ = [
    "Behaviour",
    "CallInfo",
    "Latency",
    "Profile",
    "Step",
    "accept_then_timeout",
    "black_hole",
    "by_time",
    "down_between",
    "error_rate",
    "failing",
    "fast_failure",
    "fixed",
    "flapping",
    "healthy",
    "lognormal",
    "phases",
    "quota",
    "rate_limited",
    "sequence",
    "slow",
]

#: the 99th percentile of the standard normal distribution
_Z99 = 2.3263478740408408


class Behaviour(enum.Enum):
    """What a call does once its latency has passed."""

    SUCCEED = "succeed"
    FAIL = "fail"  # raise; nothing was performed
    HANG = "hang"  # never answer; nothing was performed
    PERFORM_THEN_FAIL = "perform_then_fail"  # the side effect happens, then an error
    PERFORM_THEN_HANG = "perform_then_hang"  # the side effect happens, then silence


@attrs.frozen
class CallInfo:
    """One call as a profile sees it."""

    #: profile time: seconds since the fake's origin, on the running loop's clock
    now: float
    #: 0 for the fake's first call, across all operations
    index: int
    operation: str
    provider: str


#: builds the exception a failing call raises
ErrorFactory = Callable[[CallInfo], Exception]


@attrs.frozen
class Step:
    """What one call does: wait ``latency`` seconds, then behave as ``behaviour`` says."""

    behaviour: Behaviour = Behaviour.SUCCEED
    latency: float = 0.0
    #: the exception for ``FAIL`` and ``PERFORM_THEN_FAIL``
    error: ErrorFactory | None = None
    #: seconds between performing and raising, for ``PERFORM_THEN_FAIL``
    after: float = 0.0

    def raise_for(self, call: CallInfo) -> Exception:
        """The exception to raise for ``call``."""
        if self.error is None:
            return Unavailable(f"{call.provider}: scripted failure", provider=call.provider)
        return self.error(call)


class Profile(Protocol):
    """Decides each call's :class:`Step`."""

    def step(self, call: CallInfo) -> Step: ...


# -- latency ---------------------------------------------------------------------


class Latency(Protocol):
    """A source of latencies in seconds."""

    def sample(self) -> float: ...


@attrs.frozen
class _Fixed:
    seconds: float

    def sample(self) -> float:
        return self.seconds


@attrs.define
class _LogNormal:
    median: float
    p99: float
    seed: int
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311  # simulation, not security

    def sample(self) -> float:
        sigma = math.log(self.p99 / self.median) / _Z99
        return self._rng.lognormvariate(math.log(self.median), sigma)


def _seconds(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what}: expected a number of seconds, got {type(value).__name__}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{what}: {value!r} must be a finite number of seconds >= 0")
    return float(value)


def fixed(seconds: float) -> Latency:
    """Always the same latency."""
    return _Fixed(_seconds(seconds, "fixed(seconds)"))


def lognormal(median: float, p99: float, *, seed: int = 0) -> Latency:
    """A seeded log-normal latency with the given median and 99th percentile."""
    median = _seconds(median, "lognormal(median)")
    p99 = _seconds(p99, "lognormal(p99)")
    if not 0 < median < p99:
        raise ValueError(f"lognormal: need 0 < median < p99, got median={median}, p99={p99}")
    return _LogNormal(median, p99, seed)


def _latency(value: float | Latency) -> Latency:
    return fixed(value) if isinstance(value, int | float) else value


# -- errors ----------------------------------------------------------------------


def _unavailable(message: str) -> ErrorFactory:
    def make(call: CallInfo) -> Exception:
        return Unavailable(f"{call.provider}: {message}", provider=call.provider)

    return make


# -- the profiles ------------------------------------------------------------------


@attrs.define
class _Every:
    """Every call: the same behaviour, after a latency drawn from ``latency``."""

    behaviour: Behaviour
    latency: Latency = _Fixed(0.0)
    error: ErrorFactory | None = None
    after: float = 0.0

    def step(self, call: CallInfo) -> Step:
        return Step(self.behaviour, self.latency.sample(), self.error, self.after)


def healthy(latency: float | Latency = 0.0) -> Profile:
    """Every call succeeds after ``latency`` (seconds, or :func:`fixed` / :func:`lognormal`)."""
    return _Every(Behaviour.SUCCEED, _latency(latency))


def slow(median: float = 5.0, p99: float | None = None, *, seed: int = 0) -> Profile:
    """Every call succeeds, slowly: a fixed ``median``, or log-normal when ``p99`` is given."""
    return healthy(fixed(median) if p99 is None else lognormal(median, p99, seed=seed))


def failing(error: ErrorFactory, *, latency: float | Latency = 0.0) -> Profile:
    """Every call raises ``error(call)`` after ``latency``; nothing is performed."""
    return _Every(Behaviour.FAIL, _latency(latency), error)


def fast_failure(message: str = "service unavailable") -> Profile:
    """Every call raises :class:`Unavailable` at once."""
    return failing(_unavailable(message))


def black_hole() -> Profile:
    """Every call waits forever (until cancelled, e.g. by a timeout); nothing is performed."""
    return _Every(Behaviour.HANG)


def rate_limited(retry_after: float | None = 20.0) -> Profile:
    """Every call raises :class:`RateLimited` with ``retry_after`` seconds."""

    def make(call: CallInfo) -> Exception:
        return RateLimited(
            f"{call.provider}: too many requests", retry_after=retry_after, provider=call.provider
        )

    return failing(make)


def accept_then_timeout(delay: float = 0.0, *, hang: bool = False) -> Profile:
    """Every call performs its side effect, then after ``delay`` raises :class:`Ambiguous`.

    With ``hang=True`` it never answers instead (a client-side timeout decides).
    """
    delay = _seconds(delay, "accept_then_timeout(delay)")
    if hang:
        return _Every(Behaviour.PERFORM_THEN_HANG)

    def make(call: CallInfo) -> Exception:
        text = "the request timed out after it was sent; it may have been performed"
        return Ambiguous(f"{call.provider}: {text}", provider=call.provider)

    return _Every(Behaviour.PERFORM_THEN_FAIL, _Fixed(0.0), make, delay)


@attrs.define
class _ErrorRate:
    p: float
    rng: random.Random
    error: ErrorFactory
    ok: Profile

    def step(self, call: CallInfo) -> Step:
        if self.rng.random() < self.p:
            return Step(Behaviour.FAIL, 0.0, self.error)
        return self.ok.step(call)


def error_rate(
    p: float,
    seed: int = 0,
    *,
    error: ErrorFactory | None = None,
    latency: float | Latency = 0.0,
) -> Profile:
    """A fraction ``p`` of calls fail at once (seeded); the others succeed after ``latency``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"error_rate: p={p!r} must be between 0 and 1")
    rng = random.Random(seed)  # noqa: S311  # simulation, not security
    return _ErrorRate(p, rng, error or _unavailable("random failure"), healthy(latency))


@attrs.define
class _Quota:
    limit: int
    period: float
    inner: Profile
    window: int = -1
    used: int = 0

    def step(self, call: CallInfo) -> Step:
        window = math.floor(call.now / self.period)
        if window != self.window:
            self.window, self.used = window, 0
        if self.used < self.limit:
            self.used += 1
            return self.inner.step(call)
        wait = (window + 1) * self.period - call.now
        limit, period = self.limit, self.period

        def make(info: CallInfo) -> Exception:
            return QuotaExhausted(
                f"{info.provider}: quota of {limit} calls per {period:g}s is spent",
                reset_at=wall_now() + timedelta(seconds=wait),
                provider=info.provider,
            )

        return Step(Behaviour.FAIL, 0.0, make)


def quota(limit: int, period: float, *, inner: Profile | None = None) -> Profile:
    """At most ``limit`` calls per ``period`` seconds (fixed windows from profile time 0).

    Calls within the quota behave as ``inner`` (default :func:`healthy`); the others raise
    :class:`QuotaExhausted` with ``reset_at`` at the window's end (virtual wall time).
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"quota: limit={limit!r} must be a whole number >= 0")
    if not _seconds(period, "quota(period)") > 0:
        raise ValueError("quota: period must be greater than 0")
    return _Quota(limit, float(period), inner or healthy())


@attrs.define
class _Phases:
    phases: list[tuple[float, Profile]]
    then: Profile

    def step(self, call: CallInfo) -> Step:
        for until, profile in self.phases:
            if call.now < until:
                return profile.step(call)
        return self.then.step(call)


def phases(steps: Iterable[tuple[float, Profile]], *, then: Profile | None = None) -> Profile:
    """Behave as each profile until its time: ``[(60, healthy()), (120, black_hole())]``.

    Times are profile times in increasing order; after the last, ``then`` (default healthy).
    """
    items = [(float(until), profile) for until, profile in steps]
    if any(b[0] < a[0] for a, b in itertools.pairwise(items)):
        raise ValueError("phases: the times must be in increasing order")
    return _Phases(items, then or healthy())


def down_between(
    start: float, end: float, *, down: Profile | None = None, up: Profile | None = None
) -> Profile:
    """Hard down (``down``, default :func:`fast_failure`) from ``start`` until ``end``."""
    if end < start:
        raise ValueError(f"down_between: end={end!r} is before start={start!r}")
    up = up or healthy()
    return phases([(start, up), (end, down or fast_failure("down for maintenance"))], then=up)


@attrs.define
class _Flapping:
    period: float
    down_fraction: float
    up: Profile
    down: Profile

    def step(self, call: CallInfo) -> Step:
        into = call.now % self.period
        is_down = into >= self.period * (1.0 - self.down_fraction)
        return (self.down if is_down else self.up).step(call)


def flapping(
    period: float,
    down_fraction: float = 0.5,
    *,
    up: Profile | None = None,
    down: Profile | None = None,
) -> Profile:
    """Up, then down, every ``period`` seconds: down for the last ``down_fraction`` of each."""
    if not _seconds(period, "flapping(period)") > 0:
        raise ValueError("flapping: period must be greater than 0")
    if not 0.0 <= down_fraction <= 1.0:
        raise ValueError(f"flapping: down_fraction={down_fraction!r} must be between 0 and 1")
    return _Flapping(float(period), down_fraction, up or healthy(), down or fast_failure())


@attrs.define
class _ByTime:
    choose: Callable[[float], Profile]

    def step(self, call: CallInfo) -> Step:
        return self.choose(call.now).step(call)


def by_time(choose: Callable[[float], Profile]) -> Profile:
    """Behave as ``choose(profile_time)`` returns (return the same objects: they keep state)."""
    return _ByTime(choose)


@attrs.define
class _Sequence:
    profiles: Sequence[Profile]
    then: Profile
    position: int = 0

    def step(self, call: CallInfo) -> Step:
        if self.position < len(self.profiles):
            self.position += 1
            return self.profiles[self.position - 1].step(call)
        return self.then.step(call)


def sequence(*profiles: Profile, then: Profile | None = None) -> Profile:
    """Call n behaves as ``profiles[n]``; later calls as ``then`` (default healthy)."""
    return _Sequence(list(profiles), then or healthy())
