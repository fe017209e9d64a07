"""``gateway.suppression``: add, remove, check and list the addresses no message may go to.

What an entry blocks depends on the message's ``category``: a ``marketing`` message (the
default) goes to no suppressed recipient; a ``transactional`` one (a password reset, a receipt)
may go to an address that unsubscribed, never to one that hard-bounced, complained or was
suppressed by hand. The list lives in :mod:`aicmo_gateway.state.suppression`.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from aicmo_gateway.errors import InvalidInput, NotConfigured
from aicmo_gateway.ports.email import CATEGORIES
from aicmo_gateway.state.suppression import (
    Entry,
    Reason,
    SuppressionStore,
    domain_key,
    lookup_keys,
    normalize,
    now,
)

__all__ = ["CATEGORIES", "Suppression", "blocks"]

#: the reasons a transactional message ignores
_TRANSACTIONAL_MAY_IGNORE = frozenset({Reason.UNSUBSCRIBED})
_OFF = (
    'the suppression list is off: set [email] suppression = "sqlite:///suppression.db" '
    '(or "postgresql://...") in the config, or load the config from a file'
)

T = TypeVar("T")


def blocks(entry: Entry, category: str) -> bool:
    """Whether ``entry`` stops a message of ``category``."""
    return category != "transactional" or entry.reason not in _TRANSACTIONAL_MAY_IGNORE


def _reason_of(value: str | Reason | None) -> Reason | None:
    return None if value is None else Entry("@x", value, "", now()).reason


class Suppression:
    """The gateway's suppression list; every method is async (``gateway.sync()`` too)."""

    def __init__(self, store: SuppressionStore | None) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"Suppression({self.store!r})"

    @property
    def configured(self) -> bool:
        return self.store is not None

    def _store(self) -> SuppressionStore:
        if self.store is None:
            raise NotConfigured(_OFF)
        return self.store

    async def _run(self, call: Callable[[], T]) -> T:
        store = self._store()
        return await asyncio.to_thread(call) if store.blocking else call()

    async def add(
        self,
        target: str,
        reason: str | Reason = Reason.MANUAL,
        source: str = "api",
        *,
        at: datetime | None = None,
    ) -> Entry:
        """Suppress an address (``alice@example.com``) or a domain (``@example.com``).

        ``reason`` is ``unsubscribed``, ``hard_bounce``, ``complaint`` or ``manual``; ``source``
        says where it came from (``one-click``, ``bounce:<message-id>``). Adding an entry that
        exists (same target and reason) keeps the first one and returns it.
        """
        if not isinstance(source, str) or any(ord(c) < 32 for c in source):
            raise InvalidInput("source: expected one line of text", field="source")
        entry = Entry(normalize(target), reason, source[:200], at or now())
        store = self._store()
        return await self._run(lambda: store.add(entry))

    async def add_many(self, entries: Iterable[Entry]) -> int:
        """Store many entries in one transaction; return how many were new."""
        items = [Entry(normalize(e.target), e.reason, e.source, e.created_at) for e in entries]
        store = self._store()
        return await self._run(lambda: store.add_many(items))

    async def remove(self, target: str, reason: str | Reason | None = None) -> int:
        """Lift the target's suppression (every reason, or one); return how many entries went."""
        key, why = normalize(target), _reason_of(reason)
        store = self._store()
        return await self._run(lambda: store.remove(key, why))

    async def check(self, address: str, *, category: str = "marketing") -> Entry | None:
        """The entry that stops a ``category`` message to ``address``, or ``None``."""
        key = normalize(address)
        return (await self.lookup([key], category)).get(key)

    async def list(self, reason: str | Reason | None = None) -> builtins.list[Entry]:
        """Every entry (of one reason), oldest first."""
        why = _reason_of(reason)
        store = self._store()
        return await self._run(lambda: store.entries(why))

    async def lookup(self, keys: Sequence[str], category: str) -> dict[str, Entry]:
        """Normalized address -> the entry that stops a ``category`` message to it: one query."""
        store = self._store()
        wanted = lookup_keys(keys)
        rows = (
            await asyncio.to_thread(store.lookup, wanted)
            if store.blocking
            else store.lookup(wanted)
        )
        return _blocking(rows, keys, category) if rows else {}

    def lookup_now(self, keys: Sequence[str], category: str) -> dict[str, Entry]:
        """:meth:`lookup` without awaiting, for a store that is not ``blocking`` (SQLite)."""
        rows = self._store().lookup(lookup_keys(keys))
        return _blocking(rows, keys, category) if rows else {}

    async def soft_bounce(
        self, address: str, report: str, at: datetime, limit: int, source: str
    ) -> tuple[int, Entry | None]:
        """Count one soft bounce of ``address`` (once per ``report``, its Message-ID).

        Return the run of soft bounces in a row and, once it reaches ``limit`` (``0``: never),
        the ``hard_bounce`` entry it added with ``source``.
        """
        key = normalize(address)
        entry = Entry(key, Reason.HARD_BOUNCE, source[:200], now())
        store = self._store()
        return await self._run(lambda: store.soft_bounce(key, report[:500], at, limit, entry))

    async def reset_soft_bounces(self, resets: Iterable[tuple[str, datetime]]) -> None:
        """Start soft-bounce runs over, in one transaction: each ``(address, at)`` says a
        message from the address arrived at ``at``."""
        latest: dict[str, datetime] = {}
        for address, at in resets:
            key = normalize(address)
            latest[key] = max(at, latest.get(key, at))
        store = self._store()
        if latest:
            rows = builtins.list(latest.items())
            await self._run(lambda: store.reset_soft_bounces(rows))

    async def soft_bounces(self, address: str) -> int:
        """The address's current run of soft bounces (reaching the limit suppresses it)."""
        key = normalize(address)
        store = self._store()
        return await self._run(lambda: store.soft_bounces(key))

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _blocking(rows: Sequence[Entry], keys: Sequence[str], category: str) -> dict[str, Entry]:
    by_target: dict[str, list[Entry]] = {}
    for row in rows:
        if blocks(row, category):
            by_target.setdefault(row.target, []).append(row)
    found: dict[str, Entry] = {}
    for key in keys:
        hits = by_target.get(key, []) + by_target.get(domain_key(key), [])
        if hits:
            found[key] = min(hits, key=_severity)
    return found


def _severity(entry: Entry) -> Any:
    """The entry to report first: a complaint, then a hard bounce, manual, unsubscribed."""
    order = (Reason.COMPLAINT, Reason.HARD_BOUNCE, Reason.MANUAL, Reason.UNSUBSCRIBED)
    return (order.index(entry.reason), entry.created_at)
