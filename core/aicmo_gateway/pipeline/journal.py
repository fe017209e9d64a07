"""The run journal: one SQLite row per (campaign, lead, step), so a run can stop anywhere.

A step is written ``started`` (with its idempotency key) before its call and ``done`` (with
the call's status, the serving provider, and what later steps need) after it. A second run
reads the row first: a ``done`` step is not performed again, a ``started`` one was
interrupted (Ctrl-C, SIGKILL, a crash) at an unknown point. The journal is in WAL mode, and
each write is its own transaction, so what a killed run wrote is all there.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import attrs

from aicmo_gateway.state.sqlite_wal import enable_wal

__all__ = ["Entry", "Journal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    campaign TEXT NOT NULL,
    lead TEXT NOT NULL,
    step TEXT NOT NULL,
    state TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT,
    provider TEXT,
    detail TEXT,
    data TEXT,
    line INTEGER,
    updated_at REAL NOT NULL,
    PRIMARY KEY (campaign, lead, step)
) WITHOUT ROWID;
"""


@attrs.frozen
class Entry:
    """What the journal knows of one step of one lead."""

    state: str  # "started" or "done"
    idempotency_key: str
    status: str | None
    provider: str | None
    detail: str | None
    data: Any

    @property
    def done(self) -> bool:
        return self.state == "done"


class Journal:
    """The journal in ``path`` (created with its folder); safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        try:
            enable_wal(self._conn, 30.0)
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error:
            self._conn.close()
            raise

    def get(self, campaign: str, lead: str, step: str) -> Entry | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT state, idempotency_key, status, provider, detail, data FROM steps "
                "WHERE campaign = ? AND lead = ? AND step = ?",
                (campaign, lead, step),
            ).fetchone()
        if row is None:
            return None
        return Entry(row[0], row[1], row[2], row[3], row[4], json.loads(row[5] or "null"))

    def started(self, campaign: str, lead: str, step: str, key: str, line: int) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO steps (campaign, lead, step, state, idempotency_key, line, "
                "updated_at) VALUES (?, ?, ?, 'started', ?, ?, ?) "
                "ON CONFLICT (campaign, lead, step) DO UPDATE SET state = 'started', "
                "idempotency_key = excluded.idempotency_key, line = excluded.line, "
                "updated_at = excluded.updated_at",
                (campaign, lead, step, key, line, time.time()),
            )

    def finish(
        self,
        campaign: str,
        lead: str,
        step: str,
        *,
        done: bool,
        status: str,
        provider: str | None,
        detail: str | None,
        data: Any = None,
    ) -> None:
        """Record the step's end: ``done`` (never performed again) or not (tried next run)."""
        with self._lock:
            self._conn.execute(
                "UPDATE steps SET state = ?, status = ?, provider = ?, detail = ?, data = ?, "
                "updated_at = ? WHERE campaign = ? AND lead = ? AND step = ?",
                (
                    "done" if done else "open",
                    status,
                    provider,
                    detail,
                    json.dumps(data, sort_keys=True, default=str),
                    time.time(),
                    campaign,
                    lead,
                    step,
                ),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
