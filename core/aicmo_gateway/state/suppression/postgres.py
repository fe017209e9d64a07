"""The suppression list in PostgreSQL (``[email] suppression = "postgresql://..."``): one list
every worker of every machine honours. Needs the core's ``postgres`` extra (psycopg 3).

One connection, used by one thread at a time; a lookup is one query. A dropped connection is
opened again on the next call. Soft bounces are counted in ``aicmo_soft_bounce`` and
``aicmo_soft_bounce_reset``; a count holds a transaction-scoped advisory lock on the address, so
two workers counting the same address at once see each other's bounce.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aicmo_gateway.errors import NotConfigured
from aicmo_gateway.state.suppression import Entry, Reason, now, shown_dsn

__all__ = ["PostgresSuppression"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS aicmo_suppression (
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (target, reason)
)
"""
_SOFT_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS aicmo_soft_bounce (
        target TEXT NOT NULL,
        report TEXT NOT NULL,
        bounced_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (target, report)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS aicmo_soft_bounce_reset (
        target TEXT PRIMARY KEY,
        reset_at TIMESTAMPTZ NOT NULL
    )
    """,
)
_COLUMNS = "target, reason, source, created_at"
_COUNT = (
    "SELECT count(*) FROM aicmo_soft_bounce WHERE target = %s AND bounced_at > "
    "coalesce((SELECT reset_at FROM aicmo_soft_bounce_reset WHERE target = %s), '-infinity')"
)
_RESET = (
    "INSERT INTO aicmo_soft_bounce_reset (target, reset_at) VALUES (%s, %s) ON CONFLICT (target) "
    "DO UPDATE SET reset_at = GREATEST(aicmo_soft_bounce_reset.reset_at, excluded.reset_at)"
)
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7013))"
_INSERT = (
    f"INSERT INTO aicmo_suppression ({_COLUMNS}) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (target, reason) DO NOTHING"
)


def _entry(row: Any) -> Entry:
    return Entry(row[0], Reason(row[1]), row[2], row[3])


class PostgresSuppression:
    """Entries in the ``aicmo_suppression`` table; safe to share between threads."""

    blocking = True

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._db: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresSuppression({shown_dsn(self._dsn)!r})"

    def _connect(self) -> Any:
        if self._db is not None and not self._db.closed:
            return self._db
        try:
            import psycopg
        except ImportError:
            from aicmo_gateway.plugins.known import how_to_install

            raise NotConfigured(
                "[email] suppression names a PostgreSQL database but psycopg is not installed; "
                f"install the core's postgres extra {how_to_install('aicmo-gateway', 'postgres')}"
            ) from None
        try:
            db = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            detail = str(exc).replace(self._dsn, shown_dsn(self._dsn))
            raise ConnectionError(
                f"cannot reach the suppression database {shown_dsn(self._dsn)}: {detail}"
            ) from None
        db.execute(_SCHEMA)
        for statement in _SOFT_SCHEMA:
            db.execute(statement)
        self._db = db
        return db

    def _run(self, query: str, params: Sequence[Any] = (), fetch: bool = True) -> Any:
        with self._lock:
            db = self._connect()
            import psycopg  # imported by _connect

            try:
                cursor = db.execute(query, params, prepare=True)
            except psycopg.OperationalError:  # the connection dropped: open it again, once
                self._db = None
                cursor = self._connect().execute(query, params, prepare=True)
            return cursor.fetchall() if fetch else cursor.rowcount

    def add(self, entry: Entry) -> Entry:
        self._run(
            _INSERT,
            (entry.target, entry.reason.value, entry.source, entry.created_at),
            fetch=False,
        )
        rows = self._run(
            f"SELECT {_COLUMNS} FROM aicmo_suppression WHERE target = %s AND reason = %s",
            (entry.target, entry.reason.value),
        )
        return _entry(rows[0])

    def remove(self, target: str, reason: Reason | None = None) -> int:
        if reason is None:
            gone = self._run("DELETE FROM aicmo_suppression WHERE target = %s", (target,), False)
        else:
            gone = self._run(
                "DELETE FROM aicmo_suppression WHERE target = %s AND reason = %s",
                (target, reason.value),
                False,
            )
        if reason in (None, Reason.HARD_BOUNCE):  # a soft-bounce run starts over
            self.reset_soft_bounces([(target, now())])
        return int(gone)

    def lookup(self, keys: Sequence[str]) -> list[Entry]:
        rows = self._run(
            f"SELECT {_COLUMNS} FROM aicmo_suppression WHERE target = ANY(%s)", (list(keys),)
        )
        return [_entry(row) for row in rows]

    def entries(self, reason: Reason | None = None) -> list[Entry]:
        if reason is None:
            rows = self._run(
                f"SELECT {_COLUMNS} FROM aicmo_suppression ORDER BY created_at, target"
            )
        else:
            rows = self._run(
                f"SELECT {_COLUMNS} FROM aicmo_suppression WHERE reason = %s "
                "ORDER BY created_at, target",
                (reason.value,),
            )
        return [_entry(row) for row in rows]

    def add_many(self, entries: Sequence[Entry]) -> int:
        with self._lock:
            db = self._connect()
            with db.transaction(), db.cursor() as cursor:
                before = db.execute("SELECT count(*) FROM aicmo_suppression").fetchone()[0]
                cursor.executemany(
                    _INSERT,
                    [(e.target, e.reason.value, e.source, e.created_at) for e in entries],
                )
                after = db.execute("SELECT count(*) FROM aicmo_suppression").fetchone()[0]
            return int(after - before)

    def soft_bounce(
        self, target: str, report: str, at: datetime, limit: int, entry: Entry
    ) -> tuple[int, Entry | None]:
        with self._lock:
            db = self._connect()
            with db.transaction():
                db.execute(_LOCK, (target,))
                db.execute(
                    "INSERT INTO aicmo_soft_bounce (target, report, bounced_at) "
                    "VALUES (%s, %s, %s) ON CONFLICT (target, report) DO NOTHING",
                    (target, report, at),
                )
                count = int(db.execute(_COUNT, (target, target)).fetchone()[0])
                found = None
                if 0 < limit <= count:
                    db.execute(
                        _INSERT, (target, entry.reason.value, entry.source, entry.created_at)
                    )
                    row = db.execute(
                        f"SELECT {_COLUMNS} FROM aicmo_suppression "
                        "WHERE target = %s AND reason = %s",
                        (target, entry.reason.value),
                    ).fetchone()
                    found = _entry(row)
        return count, found

    def reset_soft_bounces(self, resets: Sequence[tuple[str, datetime]]) -> None:
        if not resets:
            return
        rows = list(resets)
        with self._lock:
            db = self._connect()
            with db.transaction(), db.cursor() as cursor:
                cursor.executemany(_RESET, rows)
                cursor.executemany(
                    "DELETE FROM aicmo_soft_bounce WHERE target = %s AND bounced_at <= %s", rows
                )

    def soft_bounces(self, target: str) -> int:
        return int(self._run(_COUNT, (target, target))[0][0])

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
