"""The SQLite store: shared facts and the ledger for the processes of one host.

One file (``store = "sqlite:///state.db"``), WAL journal, every change in ``BEGIN
IMMEDIATE`` (two processes updating at once queue on the write lock instead of failing to
upgrade a read lock) with a busy timeout. Each operation is one short transaction run on
the calling thread: no worker thread, no network. A database that stays locked past the
busy timeout (or a disk error) is treated as unreachable: the call goes on with local state
and one warning is logged.

Facts are one JSON object per provider (:class:`~aicmo_gateway.state.store.rules.Facts`);
the ledger one row per key. Expired rows are deleted now and then.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aicmo_gateway.state.sqlite_wal import enable_wal
from aicmo_gateway.state.store.base import (
    FACTS_TTL,
    LOCAL,
    Claim,
    FleetFacts,
    ProviderSpec,
    ProviderState,
    Verdict,
)
from aicmo_gateway.state.store.reach import Reach
from aicmo_gateway.state.store.rules import Facts, failure, permit, success, to_fleet

__all__ = ["SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    name TEXT PRIMARY KEY, data TEXT NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    entry TEXT PRIMARY KEY, owner TEXT, lease_until REAL NOT NULL,
    outcome TEXT, expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_expires ON ledger (expires);
"""
#: purge expired rows once per this many ledger claims
_PURGE_EVERY = 1000


class _Provider:
    def __init__(self, store: SqliteStore, name: str, spec: ProviderSpec) -> None:
        self.name = name
        self.spec = spec
        self._store = store
        self._key = f"{store.namespace}:{name}"

    async def permit(self) -> Verdict:
        verdict = self._store.update(
            self._key, lambda facts, now: permit(facts, self.spec, now), write_if=_took
        )
        return LOCAL if verdict is None else verdict

    def succeeded(self) -> None:
        self._store.update(self._key, lambda facts, now: success(facts), write_if=None)

    def failed(
        self,
        *,
        counted: bool,
        cooldown: float | None = None,
        reason: str = "",
        open_for: float | None = None,
    ) -> None:
        def change(facts: Facts, now: float) -> None:
            failure(
                facts,
                self.spec,
                now,
                counted=counted,
                cooldown=cooldown,
                reason=reason,
                open_for=open_for,
            )

        self._store.update(self._key, change, write_if=None)

    async def flush(self) -> None:
        return None


def _took(verdict: Verdict) -> bool:
    return verdict.ok


class SqliteStore:
    kind = "sqlite"

    def __init__(
        self,
        path: str | Path,
        namespace: str = "aicmo-gateway",
        *,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.namespace = namespace
        self.shown = f"sqlite:///{self.path}"
        self.clock = clock
        self.reach = Reach(self.shown)
        self._lock = threading.Lock()
        self._claims = 0
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            enable_wal(self._conn, busy_timeout)
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._tx() as conn:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute("DELETE FROM ledger WHERE expires <= ?", (self.clock(),))
                conn.execute("DELETE FROM facts WHERE expires <= ?", (self.clock(),))
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def update(
        self,
        name: str,
        change: Callable[[Facts, float], Any],
        *,
        write_if: Callable[[Any], bool] | None,
    ) -> Any:
        """Apply ``change`` to a provider's facts; ``None`` when the file cannot be used now
        (locked past the busy timeout, a disk error).

        The facts are read first without a write lock (WAL: readers never wait); only a
        change that alters them (a token taken, a failure counted) takes the write lock and
        applies it again to the facts as they are then.
        """
        try:
            with self._lock:
                now = self.clock()
                row = self._conn.execute(
                    "SELECT data, expires FROM facts WHERE name = ?", (name,)
                ).fetchone()
            facts = Facts.from_json(json.loads(row[0])) if row and row[1] > now else Facts()
            before = facts.to_json()
            result = change(facts, now)
            if facts.to_json() == before or (write_if is not None and not write_if(result)):
                self.reach.back()
                return result
            with self._tx() as conn:
                now = self.clock()
                row = conn.execute(
                    "SELECT data, expires FROM facts WHERE name = ?", (name,)
                ).fetchone()
                facts = Facts.from_json(json.loads(row[0])) if row and row[1] > now else Facts()
                result = change(facts, now)
                if write_if is None or write_if(result):
                    expires = max(row[1] if row else 0.0, now + FACTS_TTL)
                    conn.execute(
                        "INSERT INTO facts (name, data, expires) VALUES (?, ?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET data = excluded.data, "
                        "expires = excluded.expires",
                        (name, json.dumps(facts.to_json()), expires),
                    )
        except sqlite3.Error as exc:
            self.reach.lost(exc)
            return None
        self.reach.back()
        return result

    def provider(self, name: str, spec: ProviderSpec) -> _Provider:
        return _Provider(self, name, spec)

    def _ledger(self, change: Callable[[sqlite3.Connection, float], Any]) -> Any:
        try:
            with self._tx() as conn:
                result = change(conn, self.clock())
        except sqlite3.Error as exc:
            self.reach.lost(exc)
            return None
        self.reach.back()
        return result

    async def claim(
        self,
        entry: str,
        owner: str,
        lease: float,
        ttl: float,
        first: ProviderState | None = None,
    ) -> Claim:
        key = f"{self.namespace}:{entry}"
        self._claims += 1
        purge = self._claims % _PURGE_EVERY == 0

        def change(conn: sqlite3.Connection, now: float) -> Claim:
            if purge:
                conn.execute("DELETE FROM ledger WHERE expires <= ?", (now,))
            row = conn.execute(
                "SELECT owner, lease_until, outcome FROM ledger WHERE entry = ? AND expires > ?",
                (key, now),
            ).fetchone()
            state = "claimed"
            if row is not None:
                holder, lease_until, outcome = row
                if outcome is not None:
                    return Claim("done", outcome)
                if holder == owner:
                    return Claim("claimed")
                if lease_until > now:
                    return Claim("busy", None, lease_until - now)
                state = "stale"
            conn.execute(
                "INSERT INTO ledger (entry, owner, lease_until, outcome, expires) "
                "VALUES (?, ?, ?, NULL, ?) ON CONFLICT (entry) DO UPDATE SET "
                "owner = excluded.owner, lease_until = excluded.lease_until, "
                "outcome = NULL, expires = excluded.expires",
                (key, owner, now + lease, now + ttl),
            )
            return Claim(state)

        found = self._ledger(change)
        return Claim("local") if found is None else found

    async def complete(self, entry: str, owner: str, outcome: str, ttl: float) -> None:
        key = f"{self.namespace}:{entry}"
        self._ledger(
            lambda conn, now: conn.execute(
                "INSERT INTO ledger (entry, owner, lease_until, outcome, expires) "
                "VALUES (?, NULL, 0, ?, ?) ON CONFLICT (entry) DO UPDATE SET owner = NULL, "
                "lease_until = 0, outcome = excluded.outcome, expires = excluded.expires",
                (key, outcome, now + ttl),
            )
        )

    async def release(self, entry: str, owner: str) -> None:
        key = f"{self.namespace}:{entry}"
        self._ledger(
            lambda conn, now: conn.execute(
                "DELETE FROM ledger WHERE entry = ? AND owner = ? AND outcome IS NULL",
                (key, owner),
            )
        )

    async def facts(self, names: Sequence[str]) -> dict[str, FleetFacts]:
        return self._facts(names)

    def _facts(self, names: Sequence[str]) -> dict[str, FleetFacts]:
        found: dict[str, FleetFacts] = {}
        now = self.clock()
        with self._lock:
            for name in names:
                row = self._conn.execute(
                    "SELECT data, expires FROM facts WHERE name = ?",
                    (f"{self.namespace}:{name}",),
                ).fetchone()
                facts = Facts.from_json(json.loads(row[0])) if row and row[1] > now else Facts()
                found[name] = to_fleet(name, facts, now)
        return found

    def quota_counts(self, names: Sequence[str]) -> dict[str, dict[str, int]] | None:
        try:
            return {name: facts.quota_used for name, facts in self._facts(names).items()}
        except sqlite3.Error:  # locked past the busy timeout, a disk error: not now
            return None

    async def flush(self) -> None:
        return None

    def state(self) -> dict[str, Any]:
        return self.reach.state(self.kind)

    async def aclose(self) -> None:
        self.close_now()

    def close_now(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"
