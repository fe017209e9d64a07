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


#: ``Status.OK`` (read as a global: an enum member's lookup costs a tenth of a write)
_OK = Status.OK


def _check_bound(value: object) -> None:
    """``max_entries`` must be a whole number of writes, at least 1."""
    if type(value) is not int or value < 1:
        raise ValueError(
            f"max_entries must be a whole number of writes, at least 1 (got {value!r})"
        )


class MemoryLedger:
    """Completed writes keyed by ``(capability, operation, idempotency key)``.

    ``max_entries`` bounds memory (oldest forgotten first); ``ttl`` seconds
    bounds how long a key protects against a repeat.

    The writes sit in a ring of parallel lists (entry, time, call id, provider, value,
    reason), one place per write in the order of recording, the oldest at ``_head``;
    :attr:`_done` maps each entry to its place, the one dict. A write takes the place
    after the newest; when the ledger holds ``max_entries`` it first forgets the oldest,
    so a full ring overwrites its oldest place: a write costs a dict insert and delete and
    a few list stores, on a dict and lists that stop growing at the bound. A write
    forgotten early (expired, or recorded again: it moves to a new place) leaves a hole,
    an entry of ``None`` that counts for nothing (the bound counts writes, not places);
    holes are skipped when the oldest write is forgotten, and the ring is compacted (with
    a quarter to spare) when they leave it no free place.

    A completed write costs the garbage collector nothing: the ledger allocates no tracked
    object for it (a tuple per write would be one, and each one kept makes the collector
    run sooner and look at every young object, such as the outcomes the audit trail
    holds). Its entry is a ``str`` (:func:`entry_of`), its time a ``float``, its call id
    and provider the outcome's strings, each stored in a place of lists allocated once;
    only the provider's answer, its own object, is held.
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        ttl: float = 7 * 24 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_bound(max_entries)
        self._max = max_entries
        self.ttl = ttl
        self._clock = clock
        #: each completed write's place in the ring
        self._done: dict[Entry, int] = {}
        #: the ring: ``_count`` places from ``_head`` (wrapping at the lists' end), each a
        #: write's entry (``None``: a hole), when it was recorded, the call that performed
        #: it, its provider, the value it returned and its reason (``None`` when absent);
        #: places beyond the ring's are free
        self._order: list[Entry | None] = []
        self._times: list[float] = []
        self._calls: list[str] = []
        self._providers: list[str | None] = []
        self._values: list[Any] = []
        self._reasons: list[str | None] = []
        self._head = 0
        self._count = 0
        #: keys being performed, each with the calls waiting for it in arrival order
        #: (``None`` until a second call waits: a claim nobody contends costs no queue)
        self._held: dict[Entry, deque[asyncio.Future[None]] | None] = {}

    @property
    def max_entries(self) -> int:
        """How many completed writes are kept at most (the oldest forgotten first)."""
        return self._max

    @max_entries.setter
    def max_entries(self, value: int) -> None:
        # lowered on a live ledger: the oldest writes beyond it are forgotten now, and
        # the ring shrinks to fit
        _check_bound(value)
        self._max = value
        if len(self._done) > value:
            self._evict(len(self._done) - value)
        if len(self._order) > 2 * value + 1:
            self._compact()

    def get(self, capability: str, operation: str, key: str) -> Outcome | None:
        """The recorded outcome for this key (without its attempts), if it completed
        within the TTL."""
        entry = entry_of(capability, operation, key)
        place = self._done.get(entry)
        if place is None:
            return None
        if self._clock() - self._times[place] > self.ttl:
            self._forget(entry)  # its place becomes a hole
            return None
        return Outcome(
            Status.OK,
            value=self._values[place],
            provider=self._providers[place],
            attempts=(),
            call_id=self._calls[place],
            capability=capability,
            operation=operation,
            idempotency_key=key,
            reason=self._reasons[place],
        )

    def record(self, outcome: Outcome, entry: Entry | None = None) -> None:
        """Remember a completed write (only ``OK`` outcomes with a key are kept).

        ``entry``: the outcome's :func:`entry_of`, when the caller holds it (its claim's).
        """
        key = outcome.idempotency_key
        if key is None or outcome.status is not _OK:
            return
        if entry is None:
            entry = entry_of(outcome.capability, outcome.operation, key)
        if entry in self._done:  # recorded again (rare): it moves to the newest place
            self._forget(entry)
        self.record_new(entry, outcome)

    def record_new(self, entry: Entry, outcome: Outcome) -> None:
        """:meth:`record` of an ``OK`` outcome with its key, whose ``entry`` the caller holds
        since :meth:`claim_new` (so none is recorded): the checks left out."""
        done = self._done
        order = self._order
        head = self._head
        count = self._count
        if len(done) < self._max and count < len(order):  # a free place past the newest
            self._count = count + 1
            place = head + count
            if place >= len(order):
                place -= len(order)
        elif (
            len(done) >= self._max and (oldest := order[head]) is not None
        ):  # full: the oldest goes
            size = len(order)
            if count == size:  # no free place: the newest takes the oldest's
                place = done.pop(oldest)  # (and its index object: nothing to allocate)
            else:  # its place goes free, holding nothing
                del done[oldest]
                order[head] = self._values[head] = None
                self._calls[head] = ""
                place = head + count
                if place >= size:
                    place -= size
            head += 1
            self._head = 0 if head == size else head
        else:  # growing, holes at the head, or no free place among holes
            place = self._place()
            done, order = self._done, self._order  # (a compaction rebuilds them)
        order[place] = entry
        self._times[place] = self._clock()
        self._calls[place] = outcome.call_id
        self._providers[place] = outcome.provider
        self._values[place] = outcome.value
        self._reasons[place] = outcome.reason
        done[entry] = place

    def _place(self) -> int:
        """A free place for a new write, the ring's newest, making way as the bound asks:
        the oldest writes forgotten (with the holes before them), the lists grown, or the
        ring compacted."""
        done = self._done
        if len(done) >= self._max:
            self._evict(len(done) - self._max + 1)
        head, count, size = self._head, self._count, len(self._order)
        if count == size:
            if head or count > 2 * len(done):  # holes among the places
                self._compact()
            else:  # by half as much again, up to the bound (beyond it: to twice the writes)
                limit = self._max if size < self._max else 2 * len(done) + 1
                self._grow(min(size + size // 2 + 8, limit))
            head, count, size = self._head, self._count, len(self._order)
        place = head + count
        self._count = count + 1
        return place - size if place >= size else place

    def _grow(self, size: int) -> None:
        """Free places at the lists' end, up to ``size`` (the ring starts at index 0)."""
        more = size - len(self._order)
        self._order += [None] * more
        self._times += [0.0] * more
        self._calls += [""] * more
        self._providers += [None] * more
        self._values += [None] * more
        self._reasons += [None] * more

    def _evict(self, writes: int) -> None:
        """Forget the oldest ``writes`` writes, and the holes before them."""
        done, order, calls, values = self._done, self._order, self._calls, self._values
        head, count, size = self._head, self._count, len(order)
        while writes:
            entry = order[head]
            if entry is not None:
                del done[entry]
                order[head] = values[head] = None
                calls[head] = ""
                writes -= 1
            head += 1
            if head == size:
                head = 0
            count -= 1
        self._head, self._count = head, count

    def _forget(self, entry: Entry) -> None:
        """Drop a completed write: its place becomes a hole."""
        place = self._done.pop(entry)
        self._order[place] = self._values[place] = self._reasons[place] = None
        self._calls[place] = ""

    def _compact(self) -> None:
        """Rebuild the ring without its holes, its writes from index 0 in the same order,
        with a quarter as many free places after them (at least one)."""
        order, head, size = self._order, self._head, len(self._order)
        places = [p - size if p >= size else p for p in range(head, head + self._count)]
        places = [p for p in places if order[p] is not None]
        free = len(places) // 4 + 1

        def rebuilt(column: list[Any], fill: Any = None) -> list[Any]:
            kept = [column[p] for p in places]
            kept += [fill] * free
            return kept

        self._order = rebuilt(order)
        self._times = rebuilt(self._times, 0.0)
        self._calls = rebuilt(self._calls, "")
        self._providers = rebuilt(self._providers)
        self._values = rebuilt(self._values)
        self._reasons = rebuilt(self._reasons)
        kept = self._order[: len(places)]
        self._done = dict(zip(kept, range(len(places)), strict=True))  # type: ignore[arg-type]
        self._head, self._count = 0, len(places)

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
        waiters = self._held.pop(entry)
        while waiters:  # None or empty: nobody waits
            waiter = waiters.popleft()
            if not waiter.done():
                self._held[entry] = waiters  # the key stays held, by that waiter now
                waiter.set_result(None)
                return

    def __len__(self) -> int:
        return len(self._done)
