"""``enable_wal``: switch a SQLite connection to WAL, waiting out another process doing the same.

Every SQLite file the gateway shares between processes (the store, the outbox, the
suppression list, the pipeline's journal, the built-in CRM) runs in WAL mode. SQLite does
not call its busy handler for the switch: while another process creates the same file, it
answers "database is locked" at once, whatever the connection's timeout. Two processes
starting together on a new file then fail for no reason; this waits as the busy handler
would.
"""

from __future__ import annotations

import sqlite3
import time

__all__ = ["enable_wal"]


def enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """``PRAGMA journal_mode=WAL`` on ``conn``, tried again for up to ``timeout`` seconds
    while the file is locked; any other error, or a lock that outlasts it, is raised."""
    give_up = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= give_up:
                raise
            time.sleep(0.01)
