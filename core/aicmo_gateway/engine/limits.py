"""Per-provider rate limits (token bucket) and quotas per period, on an injected clock."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

from aicmo_gateway.plugins.provider_type import PERIODS, Quota, RateLimit

__all__ = ["ProviderLimits"]


class _Bucket:
    def __init__(self, limit: RateLimit) -> None:
        self.rate = limit.per_second
        self.capacity = float(limit.burst)
        self.tokens = self.capacity
        self.stamp: float | None = None  # set by the first use, on the clock in use then

    def _refill(self, now: float) -> None:
        elapsed = 0.0 if self.stamp is None else max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = now

    def wait_time(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0


class _Window:
    """A fixed window aligned to the period (a day's quota resets at the period boundary)."""

    def __init__(self, quota: Quota) -> None:
        self.quota = quota
        self.seconds = PERIODS[quota.period]
        self.window = -1
        self.used = 0

    def _roll(self, now: float) -> None:
        window = math.floor(now / self.seconds)
        if window != self.window:
            self.window, self.used = window, 0

    def wait_time(self, now: float) -> float:
        self._roll(now)
        if self.used < self.quota.limit:
            return 0.0
        return (self.window + 1) * self.seconds - now

    def take(self, now: float) -> None:
        self._roll(now)
        self.used += 1


class ProviderLimits:
    """The rate limit and quotas of one provider instance.

    ``wait_time()`` says how long until a call may go (0: now); ``take()``
    spends one call. The clock is wall-clock seconds for quotas (so a daily
    quota resets at midnight UTC) and may be virtual in tests.
    """

    def __init__(
        self,
        rate_limit: RateLimit | None,
        quotas: Sequence[Quota],
        clock: Callable[[], float],
    ) -> None:
        self._clock = clock
        self._bucket = _Bucket(rate_limit) if rate_limit else None
        self._windows = [_Window(q) for q in quotas]
        self._lock = threading.Lock()

    @property
    def limited(self) -> bool:
        return self._bucket is not None or bool(self._windows)

    def wait_time(self) -> tuple[float, str | None]:
        """Seconds until the next call is allowed, and which limit holds it back."""
        with self._lock:
            now = self._clock()
            worst, reason = 0.0, None
            for window in self._windows:
                wait = window.wait_time(now)
                if wait > worst:
                    worst = wait
                    reason = f"quota of {window.quota.limit} per {window.quota.period} used up"
            if self._bucket is not None:
                wait = self._bucket.wait_time(now)
                if wait > worst:
                    worst = wait
                    reason = f"rate limit of {self._bucket.rate:g}/s"
            return worst, reason

    def usage(self) -> list[tuple[Quota, int, float]]:
        """Each quota, the calls spent in its current period and the seconds until it resets."""
        with self._lock:
            now = self._clock()
            rows = []
            for window in self._windows:
                window._roll(now)
                rows.append((window.quota, window.used, (window.window + 1) * window.seconds - now))
            return rows

    def try_take(self) -> tuple[bool, float, str | None]:
        """Spend one call if allowed now; else return the wait and the reason."""
        with self._lock:
            now = self._clock()
            waits = [(w.wait_time(now), w) for w in self._windows]
            blocked = [(t, w) for t, w in waits if t > 0]
            if blocked:
                t, w = max(blocked, key=lambda x: x[0])
                return False, t, f"quota of {w.quota.limit} per {w.quota.period} used up"
            if self._bucket is not None:
                t = self._bucket.wait_time(now)
                if t > 0:
                    return False, t, f"rate limit of {self._bucket.rate:g}/s"
                self._bucket.take(now)
            for window in self._windows:
                window.take(now)
            return True, 0.0, None
