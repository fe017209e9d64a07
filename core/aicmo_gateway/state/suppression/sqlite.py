"""The suppression list in a SQLite file (the default): shared by the processes of one machine.

The file is created on the first ``add``; until it exists a lookup costs one ``stat`` and finds
nothing. WAL mode lets other processes add while this one reads. Soft bounces are counted in two
more tables of the same file (see :mod:`aicmo_gateway.state.suppression`); a count and the entry
it may add are one ``BEGIN IMMEDIATE`` transaction, so two processes never lose a count.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from aicmo_gateway.state.sqlite_wal import enable_wal
from aicmo_gateway.state.suppression import Entry, Reason, now, stamp

__all__ = ["SqliteSuppression"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS suppression (
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (target, reason)
) WITHOUT ROWID
"""
_SOFT_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS soft_bounce (
        target TEXT NOT NULL,
        report TEXT NOT NULL,
        bounced_at TEXT NOT NULL,
        PRIMARY KEY (target, report)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS soft_bounce_reset (
        target TEXT PRIMARY KEY,
        reset_at TEXT NOT NULL
    ) WITHOUT ROWID
    """,
)
_COLUMNS = "target, reason, source, created_at"
_COUNT = (
    "SELECT count(*) FROM soft_bounce WHERE target = ? AND bounced_at > "
    "coalesce((SELECT reset_at FROM soft_bounce_reset WHERE target = ?), '')"
)
_RESET = (
    "INSERT INTO soft_bounce_reset (target, reset_at) VALUES (?, ?) ON CONFLICT (target) "
    "DO UPDATE SET reset_at = max(reset_at, excluded.reset_at)"
)


def _entry(row: tuple[str, str, str, str]) -> Entry:
    return Entry(row[0], Reason(row[1]), row[2], datetime.fromisoformat(row[3]))


class SqliteSuppression:
    """Entries in one table of a SQLite file; safe to share between threads."""

    blocking = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._queries: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"SqliteSuppression({str(self.path)!r})"

    def _open(self, create: bool) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        if not create and not self.path.exists():
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30
            )
            enable_wal(db, 30)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            for statement in _SOFT_SCHEMA:
                db.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise OSError(
                f"cannot open the suppression list {self.path}: {exc}; make its folder "
                "writable, or point [email] suppression at another file"
            ) from None
        self._db = db
        return db

    def add(self, entry: Entry) -> Entry:
        with self._lock:
            db = self._open(create=True)
            assert db is not None
            db.execute(
                f"INSERT OR IGNORE INTO suppression ({_COLUMNS}) VALUES (?, ?, ?, ?)",
                (entry.target, entry.reason.value, entry.source, entry.created_at.isoformat()),
            )
            row = db.execute(
                f"SELECT {_COLUMNS} FROM suppression WHERE target = ? AND reason = ?",
                (entry.target, entry.reason.value),
            ).fetchone()
        return _entry(row)

    def remove(self, target: str, reason: Reason | None = None) -> int:
        with self._lock:
            db = self._open(create=False)
            if db is None:
                return 0
            if reason is None:
                cursor = db.execute("DELETE FROM suppression WHERE target = ?", (target,))
            else:
                cursor = db.execute(
                    "DELETE FROM suppression WHERE target = ? AND reason = ?",
                    (target, reason.value),
                )
            gone = cursor.rowcount
            if reason in (None, Reason.HARD_BOUNCE):  # a soft-bounce run starts over
                self._reset(db, [(target, now())])
            return gone

    def lookup(self, keys: Sequence[str]) -> list[Entry]:
        query = self._queries.get(len(keys))
        if query is None:
            marks = ", ".join("?" * len(keys))
            query = self._queries[len(keys)] = (
                f"SELECT {_COLUMNS} FROM suppression WHERE target IN ({marks})"
            )
        with self._lock:
            db = self._db if self._db is not None else self._open(create=False)
            if db is None:
                return []
            rows = db.execute(query, keys).fetchall()
        return [_entry(row) for row in rows] if rows else []

    def entries(self, reason: Reason | None = None) -> list[Entry]:
        with self._lock:
            db = self._open(create=False)
            if db is None:
                return []
            if reason is None:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM suppression ORDER BY created_at, target"
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM suppression WHERE reason = ? "
                    "ORDER BY created_at, target",
                    (reason.value,),
                ).fetchall()
        return [_entry(row) for row in rows]

    def add_many(self, entries: Sequence[Entry]) -> int:
        """Store many entries in one transaction (``import``); return how many were new."""
        with self._lock:
            db = self._open(create=True)
            assert db is not None
            before = db.total_changes
            db.execute("BEGIN")
            db.executemany(
                f"INSERT OR IGNORE INTO suppression ({_COLUMNS}) VALUES (?, ?, ?, ?)",
                [(e.target, e.reason.value, e.source, e.created_at.isoformat()) for e in entries],
            )
            db.execute("COMMIT")
            return db.total_changes - before

    def soft_bounce(
        self, target: str, report: str, at: datetime, limit: int, entry: Entry
    ) -> tuple[int, Entry | None]:
        with self._lock:
            db = self._open(create=True)
            assert db is not None
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR IGNORE INTO soft_bounce (target, report, bounced_at) "
                    "VALUES (?, ?, ?)",
                    (target, report, stamp(at)),
                )
                count = int(db.execute(_COUNT, (target, target)).fetchone()[0])
                found = None
                if 0 < limit <= count:
                    db.execute(
                        f"INSERT OR IGNORE INTO suppression ({_COLUMNS}) VALUES (?, ?, ?, ?)",
                        (target, entry.reason.value, entry.source, entry.created_at.isoformat()),
                    )
                    row = db.execute(
                        f"SELECT {_COLUMNS} FROM suppression WHERE target = ? AND reason = ?",
                        (target, entry.reason.value),
                    ).fetchone()
                    found = _entry(row)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return count, found

    def reset_soft_bounces(self, resets: Sequence[tuple[str, datetime]]) -> None:
        with self._lock:
            db = self._open(create=False)
            if db is not None and resets:
                self._reset(db, resets)

    @staticmethod
    def _reset(db: sqlite3.Connection, resets: Sequence[tuple[str, datetime]]) -> None:
        rows = [(target, stamp(at)) for target, at in resets]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(_RESET, rows)
            db.executemany(
                "DELETE FROM soft_bounce WHERE target = ? AND bounced_at <= ?",
                rows,
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def soft_bounces(self, target: str) -> int:
        with self._lock:
            db = self._open(create=False)
            if db is None:
                return 0
            return int(db.execute(_COUNT, (target, target)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
