"""The idempotency ledger: completed writes by key, so a repeated call is not performed twice.

In memory here, bounded by size and age. A call whose key is already recorded
gets the recorded ``Outcome`` back without touching a provider; concurrent
calls with the same key wait for the first one instead of racing it.
"""

from __future__ import annotations

import asyncio
import hashlib
import operator
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import attrs

from aicmo_gateway.outcome import Outcome, Status

__all__ = ["MemoryLedger", "derive_idempotency_key"]


_Done = tuple[float, Any, str | None, str, str | None]
_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)
_EMPTY: tuple[()] = ()
#: per attrs class: its name and a getter of every field's value at once (compiled once)
_RECORDS: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {}


def _record_form(cls: type) -> tuple[str, Callable[[Any], tuple[Any, ...]]]:
    form = _RECORDS.get(cls)
    if form is None:
        names = tuple(a.name for a in attrs.fields(cls))
        if len(names) == 1:
            one = operator.attrgetter(names[0])
            form = (cls.__name__, lambda value: (one(value),))
        elif names:
            form = (cls.__name__, operator.attrgetter(*names))
        else:
            form = (cls.__name__, lambda value: ())
        _RECORDS[cls] = form
    return form


def _canonical(value: Any) -> Any:
    """A structure of scalars and tuples with one meaning per payload (every field counts).

    Records (attrs classes) become ``(class name, *fields)``; each class's field getter is
    compiled once, and scalar fields are taken as they are without a recursive call.
    """
    cls = type(value)
    if cls in _SCALAR_TYPES:
        return value
    if cls is tuple or cls is list:
        for v in value:
            if type(v) not in _SCALAR_TYPES:
                return tuple(v if type(v) in _SCALAR_TYPES else _canonical(v) for v in value)
        return value if cls is tuple else tuple(value)  # scalars only: already canonical
    form = _RECORDS.get(cls)
    if form is not None or attrs.has(cls):
        name, fields = form if form is not None else _record_form(cls)
        return (
            name,
            *[
                v if type(v) in _SCALAR_TYPES or v is _EMPTY else _canonical(v)
                for v in fields(value)
            ],
        )
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, tuple | list):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, bytes):
        return ("sha256", hashlib.sha256(value).hexdigest())
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if hasattr(value, "items"):
        return ("map", *sorted((str(k), _canonical(v)) for k, v in value.items()))
    return ("str", str(value))


def derive_idempotency_key(capability: str, operation: str, payload: Any) -> str:
    """A stable key for a write: the same payload always gives the same key."""
    text = repr((capability, operation, _canonical(payload)))
    return "auto-" + hashlib.sha256(text.encode()).hexdigest()[:32]


class MemoryLedger:
    """Completed writes keyed by ``(capability, operation, idempotency key)``.

    ``max_entries`` bounds memory (oldest forgotten first); ``ttl`` seconds
    bounds how long a key protects against a repeat.
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
        #: what a completed write answered: (recorded at, value, provider, call id, reason);
        #: its outcome is rebuilt when asked for, so a kept write costs one small tuple
        self._done: OrderedDict[tuple[str, str, str], _Done] = OrderedDict()
        #: keys being performed, each with the calls waiting for it in arrival order
        self._held: dict[tuple[str, str, str], deque[asyncio.Future[None]]] = {}

    def get(self, capability: str, operation: str, key: str) -> Outcome | None:
        """The recorded outcome for this key (without its attempts), if it completed
        within the TTL."""
        entry = self._done.get((capability, operation, key))
        if entry is None:
            return None
        stamp, value, provider, call_id, reason = entry
        if self._clock() - stamp > self.ttl:
            del self._done[(capability, operation, key)]
            return None
        return Outcome(
            Status.OK,
            value=value,
            provider=provider,
            attempts=(),
            call_id=call_id,
            capability=capability,
            operation=operation,
            idempotency_key=key,
            reason=reason,
        )

    def record(self, outcome: Outcome) -> None:
        """Remember a completed write (only ``OK`` outcomes with a key are kept)."""
        if outcome.idempotency_key is None or outcome.status is not Status.OK:
            return
        entry = (outcome.capability, outcome.operation, outcome.idempotency_key)
        done = self._done
        done[entry] = (
            self._clock(),
            outcome.value,
            outcome.provider,
            outcome.call_id,
            outcome.reason,
        )
        done.move_to_end(entry)
        while len(done) > self.max_entries:
            done.popitem(last=False)

    @asynccontextmanager
    async def claim(self, capability: str, operation: str, key: str) -> AsyncIterator[None]:
        """Hold the key while a call performs it; a second caller waits for the first."""
        entry = (capability, operation, key)
        if not self.try_claim(entry):
            await self.wait_claim(entry)
        try:
            yield
        finally:
            self.release(entry)

    def try_claim(self, entry: tuple[str, str, str]) -> bool:
        """Hold ``entry`` (capability, operation, key) if no call holds it: the common case,
        without an await. ``False``: another call holds it; :meth:`wait_claim` for it."""
        if entry in self._held:
            return False
        self._held[entry] = deque()
        return True

    async def wait_claim(self, entry: tuple[str, str, str]) -> None:
        """Wait until the call holding ``entry`` releases it to this one (first come first)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._held[entry].append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(entry)  # handed over just as this caller gave up: pass it on
            else:
                self._held[entry].remove(waiter)
            raise

    def release(self, entry: tuple[str, str, str]) -> None:
        """The holder is done with ``entry``: hand it to the next waiter, or free it."""
        waiters = self._held[entry]
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the key stays held, by that waiter now
                return
        del self._held[entry]

    def __len__(self) -> int:
        return len(self._done)
