"""``ProviderHealth``: one provider instance's breaker, window, latency and cooldown.

One :class:`ProviderHealth` per configured provider instance. The chain asks it
for a :class:`Permit` before an attempt (:meth:`~ProviderHealth.acquire`) and
settles the permit afterwards (:meth:`~ProviderHealth.record` with the result,
or :meth:`~ProviderHealth.release` when the attempt was abandoned). Pure logic:
no I/O and no awaits; every method holds a lock for a few microseconds, so it is
safe from event-loop tasks and threads alike. Time comes from an injected
monotonic clock (the chain passes ``loop.time``, tests a fake).

It imports only the rest of :mod:`aicmo_gateway.engine.health`; its questions (the snapshot,
skip reasons, time until available) are in :mod:`aicmo_gateway.engine.health._readout`.

The breaker
    ``CLOSED``: calls flow and each result enters the window. A *failure* is a
    result with ``ok=False`` or a call slower than ``slow_call_seconds``. Each
    failure checks two rules; either one trips the breaker: ``consecutive_failures``
    failures in a row, or at least ``min_calls`` calls in the window failing at a
    rate of at least ``failure_rate_threshold``. A success never trips it.

    ``OPEN``: refuses every call until its deadline. Trip number *n* (trips not yet
    forgiven, counting this one) stays open :meth:`HealthPolicy.open_period` (n) =
    ``min(open_max_seconds, open_seconds * open_multiplier ** (n - 1))``.

    ``HALF_OPEN``: entered when the deadline passes. At most ``half_open_probes``
    probe permits are out at once, however many callers ask; the breaker closes once
    that many probes have succeeded (with a fresh window) and re-opens as trip
    *n + 1* on the first failed probe. With ``half_open_probes = 0`` there is no
    trial: the breaker closes as soon as the open period ends.

    Recovery: after ``recovery_successes`` successes in a row while ``CLOSED``, one
    trip is forgiven (*n* decreases by one, so the next open period is shorter) and
    the count starts again.

Demotion: a trip caused by slow calls alone (no call in the window failed) opens the
    breaker *softly*: it refuses as usual, but :meth:`~ProviderHealth.acquire` with
    ``last_resort=True`` gets a permit anyway (:meth:`~ProviderHealth.demoted` says so), so
    the chain tries the provider last, when no other provider can take the call, instead
    of failing the call. Slowness demotes; it never fails a call that would have succeeded.
    A last-resort result changes nothing unless it is a real failure, which re-trips the
    breaker as a hard open (no last resort any more). Half-open after a soft open is soft
    too: callers beyond the probes may go ahead as a last resort.

A cooldown (:meth:`~ProviderHealth.cool_down`, e.g. a 429's retry-after) refuses
every caller until it passes, whatever the breaker's state, last resort or not. It is not a
failure: being asked to slow down says nothing about whether the provider works.

Every permit is settled exactly once. ``release`` of a settled permit does
nothing and returns ``False`` (so ``finally: health.release(permit)`` is safe);
``record`` of a settled permit raises :class:`PermitError` (it would count one
attempt twice). A *late* result, whose permit was issued before the breaker last
changed state, updates the latency average only: it can neither trip nor close
the breaker it was not issued by.

:class:`Health`, the word users see, derives from the breaker and the window,
first rule that applies:

=============  ==============================================================
``UNHEALTHY``  ``OPEN``, or cooling down
``DEGRADED``   ``HALF_OPEN``; or ``CLOSED`` with at least one failure in the window
               and a failure rate of at least ``degraded_threshold``
``UNKNOWN``    no result recorded yet
``HEALTHY``    ``CLOSED`` otherwise
=============  ==============================================================
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from aicmo_gateway.engine.health._policy import HealthPolicy
from aicmo_gateway.engine.health._readout import Call, HealthReadout, _failures
from aicmo_gateway.engine.health._records import (
    BreakerState,
    Permit,
    PermitError,
)

__all__ = ["ProviderHealth"]

#: the states as module constants: an enum member read from its class costs about 80 ns in
#: Python 3.11, a global about 10
_CLOSED, _HALF_OPEN, _OPEN = BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN


class ProviderHealth(HealthReadout):
    """The breaker, window, latency and cooldown of one provider instance."""

    def __init__(
        self,
        policy: HealthPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str = "",
    ) -> None:
        self.policy = policy if policy is not None else HealthPolicy()
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._serials = itertools.count(1)
        self._outstanding: dict[int, Permit] = {}
        #: attempts let through by :meth:`enter` and not settled yet (they hold no permit)
        self._entered = 0
        self._state = _CLOSED
        self._generation = 0
        self._window: deque[Call] = deque(maxlen=self.policy.window_size)
        self._recorded = 0
        self._consecutive = 0  # failures in a row
        self._consecutive_errors = 0  # of those, real failures (not just slow)
        self._streak = 0  # successes in a row while CLOSED, toward forgiving a trip
        self._trips = 0
        self._open_until = 0.0
        self._trip_reason = ""
        self._slow_only = False  # open (or half-open) after slow calls only: a demotion
        self._probing = 0  # probes in flight
        self._probes_passed = 0
        self._cooldown_until: float | None = None
        self._cooldown_reason = ""
        self._ewma: float | None = None

    def __repr__(self) -> str:
        return f"<ProviderHealth {self.name!r} {self._state.value} trips={self._trips}>"

    # -- the chain's calls -------------------------------------------------

    def acquire(self, *, last_resort: bool = False, now: float | None = None) -> Permit | None:
        """A permit to try this provider now, or ``None`` (``skip_reason`` says why).

        ``last_resort``: no other provider can take the call, so a breaker open only for
        slow calls (see :meth:`demoted`) lets it through; the permit says ``last_resort``.
        ``now``: the clock's reading, when the caller has just read it.
        """
        with self._lock:
            now = self._advance(now)
            bypass = False
            refusing = self._state is not _CLOSED or self._cooldown_until is not None
            if refusing and self._blockers(now):
                if not (last_resort and self._soft()):
                    return None
                bypass = True
            probe = not bypass and self._state is _HALF_OPEN
            if probe:
                self._probing += 1
            permit = Permit(next(self._serials), probe, self._generation, now, self, bypass)
            self._outstanding[permit.serial] = permit
            return permit

    def record(
        self,
        permit: Permit,
        *,
        ok: bool,
        duration: float,
        slow_counts: bool = True,
        slow: bool | None = None,
        now: float | None = None,
        stretch: float = 1.0,
    ) -> None:
        """Settle ``permit`` with the attempt's result and its ``duration`` in seconds.

        ``slow_counts=False`` exempts this call from the slow-call rule; ``slow`` given
        decides it instead of ``slow_call_seconds`` (the chain's relative rule). Raises
        :class:`PermitError` if the permit is already settled or foreign, and
        ``ValueError`` for a negative or non-finite duration (the permit stays out). ``now``:
        the clock's reading, when the caller has just read it. ``stretch``: if this result
        re-opens the breaker after a failed probe, the open period is this many times as long
        (the chain asks for it while none of its providers is closed).
        """
        if not (math.isfinite(duration) and duration >= 0):
            raise ValueError(f"duration must be a finite number of seconds >= 0, not {duration!r}")
        with self._lock:
            now = self._advance(now)
            self._settle(permit, strict=True)
            self._result(
                permit.probe,
                permit.last_resort,
                permit.generation,
                ok,
                duration,
                slow_counts,
                slow,
                now,
                stretch,
            )

    # -- the chain's fast path: the common case without a permit -----------------

    def enter(self) -> int | None:
        """Let an attempt through without a :class:`Permit` when the breaker is closed and
        nothing cools it down (the common case); ``None`` otherwise: ask :meth:`acquire`.

        Returns the breaker's generation, to give back to :meth:`settle_ok` (the attempt
        succeeded), :meth:`adopt` (it failed: settle it as a permit) or :meth:`leave`
        (abandoned). The attempt counts as in flight until then.
        """
        lock = self._lock  # acquire/release: half the cost of ``with`` on the hot path
        lock.acquire()
        try:
            if self._state is not _CLOSED or self._cooldown_until is not None:
                return None
            self._entered += 1
            return self._generation
        finally:
            lock.release()

    def settle_ok(self, generation: int, duration: float, slow: bool, now: float) -> None:
        """An attempt let through by :meth:`enter` succeeded: as :meth:`record` with
        ``ok=True, slow=slow, now=now`` for a permit of that generation."""
        lock = self._lock
        lock.acquire()
        try:
            self._entered -= 1
            policy = self.policy
            if (
                slow
                or generation != self._generation  # late, or the breaker changed since
                or self._cooldown_until is not None
                or policy.window_seconds is not None
                or policy.slow_call_seconds is not None
            ):
                now = self._advance(now)
                self._result(False, False, generation, True, duration, True, slow, now, 1.0)
                return
            # closed all along (the generation is the same), a plain success: _result's
            # steps for it, inline
            alpha, ewma = policy.ewma_alpha, self._ewma
            self._ewma = duration if ewma is None else alpha * duration + (1 - alpha) * ewma
            self._recorded += 1
            self._window.append((now, False, False))
            self._consecutive = self._consecutive_errors = 0
            streak = self._streak = self._streak + 1
            recovery = policy.recovery_successes
            if recovery is not None and streak >= recovery:
                self._streak = 0
                self._trips = max(self._trips - 1, 0)
        finally:
            lock.release()

    def adopt(self, generation: int, issued_at: float) -> Permit:
        """The :class:`Permit` an attempt let through by :meth:`enter` would have had, to
        settle with :meth:`record` or :meth:`release` (a failure takes the general path)."""
        with self._lock:
            self._entered -= 1
            permit = Permit(next(self._serials), False, generation, issued_at, self, False)
            self._outstanding[permit.serial] = permit
            return permit

    def leave(self) -> None:
        """An attempt let through by :meth:`enter` was abandoned (as :meth:`release`)."""
        with self._lock:
            self._entered -= 1

    def _result(
        self,
        probe: bool,
        last_resort: bool,
        generation: int,
        ok: bool,
        duration: float,
        slow_counts: bool,
        slow: bool | None,
        now: float,
        stretch: float,
    ) -> None:
        """Count a settled attempt's result (the lock is held)."""
        policy = self.policy
        alpha = policy.ewma_alpha
        self._ewma = duration if self._ewma is None else alpha * duration + (1 - alpha) * self._ewma
        self._recorded += 1
        if generation != self._generation:
            return  # late: issued before the breaker last changed state
        limit = policy.slow_call_seconds
        if slow is None or limit is not None:
            slow = slow_counts and limit is not None and duration > limit
        slow = bool(slow) and slow_counts
        failed = not ok or slow
        self._window.append((now, not ok, slow))
        if policy.window_seconds is not None:
            self._prune(now)
        self._consecutive = self._consecutive + 1 if failed else 0
        self._consecutive_errors = self._consecutive_errors + (not ok) if failed else 0
        if last_resort:
            # past a soft open: only a real failure changes it, into a hard one
            if not ok:
                self._trip(now, "a failure while demoted for slow calls")
            return
        if probe:
            if failed:
                self._trip(now, "a failed probe", stretch)
            else:
                self._probes_passed += 1
                if self._probes_passed >= policy.half_open_probes:
                    self._close()
        elif failed:
            self._streak = 0
            reason = self._trip_rule()
            if reason is not None:
                self._trip(now, reason)
        else:
            self._streak += 1
            if policy.recovery_successes is not None and (
                self._streak >= policy.recovery_successes
            ):
                self._streak = 0
                self._trips = max(self._trips - 1, 0)

    def release(self, permit: Permit) -> bool:
        """Settle ``permit`` without a result (the attempt was cancelled or not made).

        Returns ``False`` if it was already settled. A released probe frees its slot.
        """
        with self._lock:
            self._advance()
            return self._settle(permit, strict=False)

    def cool_down(self, seconds: float, reason: str = "rate limiting") -> None:
        """Refuse every caller for ``seconds`` (a 429's retry-after); never shortens one."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
        with self._lock:
            now = self._advance()
            until = now + seconds
            if seconds > 0 and (self._cooldown_until is None or until > self._cooldown_until):
                self._cooldown_until, self._cooldown_reason = until, reason

    # -- internals (the lock is held) ----------------------------------------

    def _advance(self, now: float | None = None) -> float:
        """Read the clock (unless given) and apply what time alone changes."""
        if now is None:
            now = self._clock()
        if self._cooldown_until is not None and now >= self._cooldown_until:
            self._cooldown_until, self._cooldown_reason = None, ""
        if self._state is _OPEN and now >= self._open_until:
            if self.policy.half_open_probes == 0:
                self._close()
            else:
                self._state = _HALF_OPEN
                self._generation += 1
                self._probing = self._probes_passed = 0
        if self.policy.window_seconds is not None:
            self._prune(now)
        return now

    def _prune(self, now: float) -> None:
        seconds = self.policy.window_seconds
        if seconds is not None:
            while self._window and now - self._window[0][0] >= seconds:
                self._window.popleft()

    def _settle(self, permit: Permit, *, strict: bool) -> bool:
        if permit.owner is not self:
            raise PermitError(f"permit {permit.serial} was issued by another provider's health")
        if self._outstanding.pop(permit.serial, None) is None:
            if strict:
                raise PermitError(
                    f"permit {permit.serial} was already recorded or released; "
                    "record each attempt exactly once"
                )
            return False
        if permit.probe and permit.generation == self._generation:
            self._probing -= 1
        return True

    def _trip_rule(self) -> str | None:
        policy = self.policy
        if policy.consecutive_failures is not None and (
            self._consecutive >= policy.consecutive_failures
        ):
            plural = "s" if self._consecutive != 1 else ""
            if not self._consecutive_errors:
                return f"{self._consecutive} consecutive slow call{plural}"
            return f"{self._consecutive} consecutive failure{plural}"
        calls = len(self._window)
        failed = sum(failed or slow for _, failed, slow in self._window)
        threshold = policy.failure_rate_threshold
        if (
            threshold is not None
            and calls >= max(policy.min_calls, 1)
            and failed / calls >= threshold
        ):
            return _failures(failed, sum(slow for _, _, slow in self._window), calls)
        return None

    def _trip(self, now: float, reason: str, stretch: float = 1.0) -> None:
        self._trips += 1
        self._state = _OPEN
        self._generation += 1
        self._open_until = now + self.policy.open_period(self._trips) * stretch
        self._trip_reason = reason
        # slow calls alone: no real failure in the window, nor in the streak that tripped it
        self._slow_only = not self._consecutive_errors and not any(
            failed for _, failed, _ in self._window
        )
        self._probing = self._probes_passed = self._streak = 0

    def _close(self) -> None:
        self._state = _CLOSED
        self._generation += 1
        self._slow_only = False
        self._window.clear()
        self._probing = self._probes_passed = self._streak = self._consecutive = 0
        self._consecutive_errors = 0
