"""What a provider's health says: its snapshot, why it refuses calls, when it will take one.

:class:`HealthReadout` is the half of :class:`~aicmo_gateway.engine.health._breaker.
ProviderHealth` that answers questions (``status``, the chain's skip reasons and waits); the
breaker's transitions are in :mod:`aicmo_gateway.engine.health._breaker`. Every question
takes the lock and applies what time alone changes first (``_advance``).
"""

from __future__ import annotations

import math
import threading
from collections import deque

from aicmo_gateway.engine.health._policy import HealthPolicy
from aicmo_gateway.engine.health._records import BreakerState, Health, HealthSnapshot, Permit

__all__ = ["HealthReadout"]

#: one result in the window: (loop time, failed, slow); a plain tuple, built on every call
Call = tuple[float, bool, bool]


class HealthReadout:
    """The questions :class:`~aicmo_gateway.engine.health._breaker.ProviderHealth` answers
    (its state is set up and changed there)."""

    policy: HealthPolicy
    _lock: threading.Lock
    _outstanding: dict[int, Permit]
    _entered: int
    _state: BreakerState
    _window: deque[Call]
    _recorded: int
    _consecutive: int
    _trips: int
    _open_until: float
    _trip_reason: str
    _slow_only: bool
    _probing: int
    _probes_passed: int
    _cooldown_until: float | None
    _cooldown_reason: str
    _ewma: float | None

    def _advance(self, now: float | None = None) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- questions ---------------------------------------------------------

    def demoted(self) -> bool:
        """Refusing only because slow calls (no failures) opened the breaker.

        Then ``acquire(last_resort=True)`` hands out a permit: the provider is tried
        when no other one can take the call.
        """
        with self._lock:
            now = self._advance()
            return bool(self._blockers(now)) and self._soft()

    def skip_reason(self) -> str | None:
        """Why ``acquire`` would refuse now, in words; ``None`` if it would not."""
        with self._lock:
            now = self._advance()
            return "; ".join(text for _, text in self._blockers(now)) or None

    def time_until_available(self) -> float:
        """Seconds until ``acquire`` could succeed; 0 if it can now.

        ``math.inf`` when half-open with every probe slot taken: no deadline frees a
        slot, only an in-flight probe being settled.
        """
        with self._lock:
            now = self._advance()
            return max((max(left, 0.0) for left, _ in self._blockers(now)), default=0.0)

    def snapshot(self) -> HealthSnapshot:
        """The current state, for status displays and tests."""
        with self._lock:
            now = self._advance()
            calls = len(self._window)
            failed = sum(failed or slow for _, failed, slow in self._window)
            slow = sum(slow for _, _, slow in self._window)
            blocked = "; ".join(text for _, text in self._blockers(now)) or None
            health, reason = Health.HEALTHY, blocked
            degraded = self.policy.degraded_threshold
            if self._state is BreakerState.OPEN or self._cooldown_until is not None:
                health = Health.UNHEALTHY
            elif self._state is BreakerState.HALF_OPEN:
                health = Health.DEGRADED
                reason = reason or (
                    f"half-open: {self._probes_passed} of "
                    f"{self.policy.half_open_probes} probes succeeded"
                )
            elif self._recorded == 0:
                health = Health.UNKNOWN
            elif degraded is not None and failed and failed / calls >= degraded:
                health, reason = Health.DEGRADED, _failures(failed, slow, calls)
            return HealthSnapshot(
                at=now,
                health=health,
                state=self._state,
                reason=reason,
                open_until=self._open_until if self._state is BreakerState.OPEN else None,
                cooldown_until=self._cooldown_until,
                calls=calls,
                failure_rate=sum(failed for _, failed, _ in self._window) / calls if calls else 0.0,
                slow_rate=slow / calls if calls else 0.0,
                consecutive_failures=self._consecutive,
                ewma_latency=self._ewma,
                trips=self._trips,
                in_flight=len(self._outstanding) + self._entered,
                demoted=self._state is not BreakerState.CLOSED and self._slow_only,
            )

    # -- internals (the lock is held) ----------------------------------------

    def _soft(self) -> bool:
        """Whatever refuses calls now is only a demotion for slowness (no cooldown)."""
        return self._slow_only and self._cooldown_until is None

    def _blockers(self, now: float) -> list[tuple[float, str]]:
        """(seconds left, reason) for everything refusing calls now."""
        found: list[tuple[float, str]] = []
        if self._state is BreakerState.OPEN:
            left = self._open_until - now
            if self._slow_only:
                text = (
                    f"demoted after {self._trip_reason} until +{left:.1f}s (slow, not failing: "
                    "still tried, last, when no other provider can)"
                )
            else:
                text = f"open after {self._trip_reason} until +{left:.1f}s"
            found.append((left, text))
        elif (
            self._state is BreakerState.HALF_OPEN
            and self._probes_passed + self._probing >= self.policy.half_open_probes
        ):
            text = "half-open: probe already in flight"
            if self._probing > 1 or self._probes_passed:
                text = (
                    f"half-open: {self._probing} probe(s) in flight, "
                    f"{self._probes_passed} of {self.policy.half_open_probes} succeeded"
                )
            if self._slow_only:
                text += " (demoted for slow calls: still tried, last, when no other can)"
            found.append((math.inf, text))
        if self._cooldown_until is not None:
            left = self._cooldown_until - now
            found.append((left, f"cooling down after {self._cooldown_reason} for {left:.1f}s"))
        return found


def _failures(failed: int, slow: int, calls: int) -> str:
    what = "failed or slow call" if slow else "failure"
    return f"{failed} {what}{'s' if failed != 1 else ''} in the last {calls} calls"
