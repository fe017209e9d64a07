"""The retry budget: retries allowed as a ratio of recent calls plus a small floor per second.

When a provider is down, retries would multiply the load on it; the budget
caps them so that, as failures pile up, attempts per call fall toward one
instead of growing with every retry setting in the stack.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

__all__ = ["RetryBudget"]


class RetryBudget:
    """Within the last ``window`` seconds, retries may be at most
    ``ratio * calls + min_per_second * window``."""

    def __init__(
        self,
        ratio: float = 0.2,
        min_per_second: float = 1.0,
        *,
        window: float = 10.0,
        clock: Callable[[], float],
    ) -> None:
        if ratio < 0 or min_per_second < 0 or window <= 0:
            raise ValueError("retry budget: ratio and min_per_second must be >= 0, window > 0")
        self.ratio = ratio
        self.min_per_second = min_per_second
        self.window = window
        self._clock = clock
        self._calls: deque[float] = deque()
        self._retries: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, now: float) -> None:
        edge = now - self.window
        for series in (self._calls, self._retries):
            while series and series[0] <= edge:
                series.popleft()

    def record_call(self, now: float | None = None) -> None:
        """Count a call (``now``: the clock's reading, when the caller has it already)."""
        lock = self._lock  # acquire/release: half the cost of ``with`` on every call
        lock.acquire()
        try:
            if now is None:
                now = self._clock()
            calls = self._calls
            if calls and calls[0] <= now - self.window:
                self._trim(now)
            calls.append(now)
        finally:
            lock.release()

    def try_spend(self) -> bool:
        """Spend one retry if the budget allows it."""
        with self._lock:
            now = self._clock()
            self._trim(now)
            allowed = self.ratio * len(self._calls) + self.min_per_second * self.window
            if len(self._retries) + 1 > allowed:
                return False
            self._retries.append(now)
            return True
