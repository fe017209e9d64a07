"""The SQLite outbox: one file, safe from several processes on one host.

WAL journal (readers never block the writer), ``synchronous=FULL`` (a committed row
survives a power cut), every write in ``BEGIN IMMEDIATE`` (the write lock is taken at the
start, so two processes claiming at once queue up instead of failing to upgrade a read
lock), and a busy timeout so a waiting process does not give up at once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aicmo_gateway.state.outbox.sql import Execute, SqlBackend
from aicmo_gateway.state.sqlite_wal import enable_wal

__all__ = ["SqliteBackend"]


class SqliteBackend(SqlBackend):
    dialect = "sqlite"

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        enable_wal(self._conn, busy_timeout)
        self._conn.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def _tx(self) -> Iterator[Execute]:
        def run(sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
            return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield run
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteBackend({str(self.path)!r})"
