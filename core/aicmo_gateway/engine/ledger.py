"""The idempotency ledger: completed writes by key, so a repeated call is not performed twice.

In memory here, bounded by size and age. A call whose key is already recorded
gets the recorded ``Outcome`` back without touching a provider; concurrent
calls with the same key wait for the first one instead of racing it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import attrs

from aicmo_gateway.outcome import Outcome

__all__ = ["MemoryLedger", "derive_idempotency_key"]


_FIELDS: dict[type, tuple[str, ...]] = {}
_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


def _fields_of(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(a.name for a in attrs.fields(cls))
    return names


def _canonical(value: Any) -> Any:
    """A structure of scalars and tuples with one meaning per payload (every field counts)."""
    cls = type(value)
    if cls in _SCALAR_TYPES:
        return value
    if cls is tuple or cls is list:
        return tuple(v if type(v) is str else _canonical(v) for v in value)
    if cls in _FIELDS or attrs.has(cls):
        return (cls.__name__, *[_canonical(getattr(value, n)) for n in _fields_of(cls)])
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
        self._done: OrderedDict[tuple[str, str, str], tuple[float, Outcome]] = OrderedDict()
        self._locks: dict[tuple[str, str, str], tuple[asyncio.Lock, int]] = {}

    def get(self, capability: str, operation: str, key: str) -> Outcome | None:
        """The recorded outcome for this key, if it completed within the TTL."""
        entry = self._done.get((capability, operation, key))
        if entry is None:
            return None
        stamp, outcome = entry
        if self._clock() - stamp > self.ttl:
            del self._done[(capability, operation, key)]
            return None
        return outcome

    def record(self, outcome: Outcome) -> None:
        """Remember a completed write (only ``OK`` outcomes with a key are kept)."""
        if outcome.idempotency_key is None or not outcome.ok:
            return
        entry = (outcome.capability, outcome.operation, outcome.idempotency_key)
        self._done[entry] = (self._clock(), outcome)
        self._done.move_to_end(entry)
        while len(self._done) > self.max_entries:
            self._done.popitem(last=False)

    @asynccontextmanager
    async def claim(self, capability: str, operation: str, key: str) -> AsyncIterator[None]:
        """Hold the key while a call performs it; a second caller waits for the first."""
        entry = (capability, operation, key)
        lock, users = self._locks.get(entry, (asyncio.Lock(), 0))
        self._locks[entry] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[entry]
            if users <= 1:
                del self._locks[entry]
            else:
                self._locks[entry] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._done)
