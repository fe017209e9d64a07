"""``RequestPacer``: a vendor's request rate and lockouts, shared by every client of one account.

Many HTTP APIs limit requests per account or per resource, not per connection: Airtable allows 5
requests per second per base and locks a base out for 30 seconds after a 429; Resend's rate limit
is per team. Several provider instances in one process (two chains, two gateways, a batch split
into requests) then share one allowance. :meth:`RequestPacer.shared` gives every caller with the
same key the same pacer:

* ``await pacer.acquire()`` before each request: it waits for a free slot (at most ``limit``
  request starts in any ``period`` seconds), or raises :class:`~aicmo_gateway.RateLimited` at
  once when the key is locked out or the wait would exceed ``max_wait``;
* ``pacer.lock_out(seconds)`` after a 429: every caller is refused (``RateLimited`` with the
  remaining wait) until it ends, so the chain skips the provider instead of hammering it;
* ``pacer.hold(seconds)`` when the service says the window is spent (``RateLimit-Remaining: 0``):
  callers wait (within ``max_wait``) instead of being refused.

Times are read from the running event loop's clock (virtual under
:mod:`aicmo_gateway.testing`'s virtual time), and the state is guarded by a lock, so pacers work
across threads and loops of one process. Several processes do not share a pacer. Loops with
different clocks (a virtual-time test next to real loops) must not share a key.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import math
import threading
import time
from collections.abc import Callable, Hashable
from typing import ClassVar

from aicmo_gateway.errors import RateLimited

__all__ = ["RequestPacer", "fingerprint"]


def _loop_clock() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def fingerprint(secret: str) -> str:
    """A short one-way digest of a secret, to key shared state without keeping the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


class RequestPacer:
    """At most ``limit`` request starts in any ``period`` seconds, plus lockouts and holds.

    ``limit=None`` paces nothing but still honours :meth:`lock_out` and :meth:`hold`.
    ``name`` appears in errors (e.g. the provider type); ``clock`` is for tests.
    """

    _registry: ClassVar[dict[Hashable, RequestPacer]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        limit: int | None,
        period: float = 1.0,
        *,
        max_wait: float = 30.0,
        name: str | None = None,
        clock: Callable[[], float] = _loop_clock,
    ) -> None:
        if limit is not None and (isinstance(limit, bool) or limit < 1):
            raise ValueError(f"RequestPacer: limit {limit!r} must be a whole number of 1 or more")
        if not (period > 0 and math.isfinite(period)):
            raise ValueError(f"RequestPacer: period {period!r} must be a number of seconds above 0")
        if not (max_wait >= 0 and math.isfinite(max_wait)):
            raise ValueError(f"RequestPacer: max_wait {max_wait!r} must be 0 or more seconds")
        self.limit = limit
        self.period = float(period)
        self.max_wait = float(max_wait)
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        #: the reserved start times of the last ``limit`` requests, oldest first
        self._starts: collections.deque[float] = collections.deque(maxlen=limit or 1)
        self._locked_until = -math.inf
        self._not_before = -math.inf
        #: requests let through so far (for tests and metrics)
        self.granted = 0

    def __repr__(self) -> str:
        return f"RequestPacer(limit={self.limit!r}, period={self.period!r}, name={self.name!r})"

    @classmethod
    def shared(
        cls,
        key: Hashable,
        limit: int | None,
        period: float = 1.0,
        *,
        max_wait: float = 30.0,
        name: str | None = None,
    ) -> RequestPacer:
        """The process-wide pacer for ``key`` (created by the first caller, with its settings).

        Key it by what the vendor limits: ``("airtable", base_url, base_id)``, or an account's
        :func:`fingerprint`, never by the secret itself.
        """
        with cls._registry_lock:
            pacer = cls._registry.get(key)
            if pacer is None:
                pacer = cls(limit, period, max_wait=max_wait, name=name)
                cls._registry[key] = pacer
            return pacer

    # -- what callers do ---------------------------------------------------------------------

    async def acquire(self) -> None:
        """Wait for this request's slot; ``RateLimited`` when locked out or the wait is too long."""
        with self._lock:
            now = self._clock()
            self._refuse_if_locked(now)
            slot = max(now, self._not_before)
            if self.limit is not None and len(self._starts) >= self.limit:
                slot = max(slot, self._starts[0] + self.period)
            wait = slot - now
            if wait > self.max_wait:
                raise RateLimited(
                    f"{self._who}: the next request slot is {wait:.1f}s away (more than "
                    f"{self.max_wait:g}s); try later",
                    retry_after=wait,
                    provider=self.name,
                )
            if self.limit is not None:
                self._starts.append(slot)
            self.granted += 1
        if wait > 0:
            await asyncio.sleep(wait)
            with self._lock:  # a 429 seen by another caller meanwhile stops this one too
                self._refuse_if_locked(self._clock())

    def lock_out(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (a 429's wait), for every holder of this pacer."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        with self._lock:
            self._locked_until = max(self._locked_until, self._clock() + seconds)

    def hold(self, seconds: float) -> None:
        """Start no request for ``seconds``; callers wait (within ``max_wait``) rather than fail."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    @property
    def locked_for(self) -> float:
        """Seconds left in the current lockout (0 when none)."""
        with self._lock:
            return max(0.0, self._locked_until - self._clock())

    # -- internals ------------------------------------------------------------------------------

    @property
    def _who(self) -> str:
        return self.name or "the service"

    def _refuse_if_locked(self, now: float) -> None:
        if now < self._locked_until:
            left = self._locked_until - now
            raise RateLimited(
                f"{self._who}: locked out after a 429 for {left:.1f}s more; not sending",
                retry_after=left,
                provider=self.name,
            )
