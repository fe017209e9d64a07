"""The idempotency ledger: completed writes by key, so a repeated call is not performed twice.

In memory here, bounded by size and age. A call whose key is already recorded
gets the recorded ``Outcome`` back without touching a provider; concurrent
calls with the same key wait for the first one instead of racing it. Keys derived from
payloads are :mod:`aicmo_gateway.engine.keys`' (``derive_idempotency_key`` is kept here too).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aicmo_gateway.engine.keys import derive_idempotency_key
from aicmo_gateway.outcome import Outcome, Status

__all__ = ["Entry", "MemoryLedger", "derive_idempotency_key", "entry_of"]


#: a write's place in the ledger: ``capability, operation, key`` joined by :data:`_SEP` (a
#: ``str``, which the garbage collector does not track; capabilities and operations are
#: names without it, so the key, last, may hold anything)
Entry = str
_SEP = "\x1f"


def entry_of(capability: str, operation: str, key: str) -> Entry:
    """The ledger's entry for a write: ``capability``, ``operation`` and ``key`` as one."""
    return f"{capability}{_SEP}{operation}{_SEP}{key}"


class MemoryLedger:
    """Completed writes keyed by ``(capability, operation, idempotency key)``.

    ``max_entries`` bounds memory (oldest forgotten first); ``ttl`` seconds
    bounds how long a key protects against a repeat.

    A completed write costs the garbage collector nothing: the ledger allocates no tracked
    object for it (a tuple would be one, and each one kept makes the collector run sooner
    and look at every young object, such as the outcomes the audit trail holds). Its entry
    is a ``str`` (:func:`entry_of`), its time a ``float``, its call id and provider the
    outcome's strings, each in a dict of its own; only the provider's answer, its own
    object, is held. A deque of entries keeps the order of recording (oldest forgotten
    first).
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        ttl: float = 7 * 24 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        #: when each completed write was recorded
        self._done: dict[Entry, float] = {}
        #: the completed writes in the order they were recorded, oldest first, each with
        #: the very ``float`` of its time in :attr:`_done`: a place whose time is not its
        #: entry's any more (the write expired, or was recorded again) is stale, skipped
        self._order: deque[Entry] = deque()
        self._times: deque[float] = deque()
        #: the call that performed each one, and its provider (absent: ``None``)
        self._calls: dict[Entry, str] = {}
        self._providers: dict[Entry, str] = {}
        #: the value each one returned (absent: ``None``)
        self._values: dict[Entry, Any] = {}
        #: the outcome's reason, for the rare write that has one
        self._reasons: dict[Entry, str] = {}
        #: keys being performed, each with the calls waiting for it in arrival order
        #: (``None`` until a second call waits: a claim nobody contends costs no queue)
        self._held: dict[Entry, deque[asyncio.Future[None]] | None] = {}

    def get(self, capability: str, operation: str, key: str) -> Outcome | None:
        """The recorded outcome for this key (without its attempts), if it completed
        within the TTL."""
        entry = entry_of(capability, operation, key)
        stamp = self._done.get(entry)
        if stamp is None:
            return None
        if self._clock() - stamp > self.ttl:
            self._forget(entry)  # its place in the order goes stale
            return None
        return Outcome(
            Status.OK,
            value=self._values.get(entry),
            provider=self._providers.get(entry),
            attempts=(),
            call_id=self._calls[entry],
            capability=capability,
            operation=operation,
            idempotency_key=key,
            reason=self._reasons.get(entry),
        )

    def record(self, outcome: Outcome, entry: Entry | None = None) -> None:
        """Remember a completed write (only ``OK`` outcomes with a key are kept).

        ``entry``: the outcome's :func:`entry_of`, when the caller holds it (its claim's).
        """
        key = outcome.idempotency_key
        if key is None or outcome.status is not Status.OK:
            return
        if entry is None:
            entry = entry_of(outcome.capability, outcome.operation, key)
        done, order = self._done, self._order
        if entry in done:  # recorded again (rare): it moves to the newest place
            self._forget(entry)
        # a new float object per record (``+ 0.0`` makes one even when a clock returns the
        # same object twice): the identity that tells a live place from a stale one
        done[entry] = stamp = self._clock() + 0.0
        order.append(entry)
        self._times.append(stamp)
        self._calls[entry] = outcome.call_id
        provider, value, reason = outcome.provider, outcome.value, outcome.reason
        if provider is not None:
            self._providers[entry] = provider
        if value is not None:
            self._values[entry] = value
        if reason is not None:
            self._reasons[entry] = reason
        if len(order) > self.max_entries:
            self._trim()

    def _trim(self) -> None:
        """Forget the oldest writes beyond :attr:`max_entries`; drop stale places, and
        rebuild the order when they make up more than half of it."""
        done, order, times = self._done, self._order, self._times
        while len(done) > self.max_entries:
            entry, stamp = order.popleft(), times.popleft()
            if done.get(entry) is stamp:
                self._forget(entry)
        while order and done.get(order[0]) is not times[0]:
            order.popleft()
            times.popleft()
        if len(order) > 2 * len(done):  # a dict keeps the order of insertion
            self._order, self._times = deque(done), deque(done.values())

    def _forget(self, entry: Entry) -> None:
        """Drop a completed write (its place in :attr:`_order` goes stale)."""
        del self._done[entry]
        del self._calls[entry]
        self._providers.pop(entry, None)
        self._values.pop(entry, None)
        if self._reasons:
            self._reasons.pop(entry, None)

    @asynccontextmanager
    async def claim(self, capability: str, operation: str, key: str) -> AsyncIterator[None]:
        """Hold the key while a call performs it; a second caller waits for the first."""
        entry = entry_of(capability, operation, key)
        if not self.try_claim(entry):
            await self.wait_claim(entry)
        try:
            yield
        finally:
            self.release(entry)

    def try_claim(self, entry: Entry) -> bool:
        """Hold ``entry`` (:func:`entry_of`) if no call holds it: the common case,
        without an await. ``False``: another call holds it; :meth:`wait_claim` for it."""
        if entry in self._held:
            return False
        self._held[entry] = None
        return True

    def claim_new(self, entry: Entry) -> bool:
        """Hold ``entry`` if no call holds it and no completed write is recorded for it (a
        first write, the common case); ``False`` otherwise, holding nothing."""
        if entry in self._held or entry in self._done:
            return False
        self._held[entry] = None
        return True

    async def wait_claim(self, entry: Entry) -> None:
        """Wait until the call holding ``entry`` releases it to this one (first come first)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._held[entry]
        if waiters is None:
            waiters = self._held[entry] = deque()
        waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(entry)  # handed over just as this caller gave up: pass it on
            elif waiter in waiters:
                waiters.remove(waiter)
            raise

    def release(self, entry: Entry) -> None:
        """The holder is done with ``entry``: hand it to the next waiter, or free it."""
        waiters = self._held[entry]
        while waiters:  # None or empty: nobody waits
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the key stays held, by that waiter now
                return
        del self._held[entry]

    def __len__(self) -> int:
        return len(self._done)
