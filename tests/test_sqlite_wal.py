"""``enable_wal``: processes opening a new SQLite file together must not fail.

SQLite may answer "database is locked" to the switch to WAL at once, without waiting in its
busy handler, while other connections are switching the same new file (each holds a shared
lock and wants an exclusive one: SQLite refuses instead of deadlocking). Four processes
doing a plain ``PRAGMA journal_mode=WAL`` on one new file failed in 27 of 100 trials; this is
what made two fetchers sharing a new suppression list fail now and then.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from aicmo_gateway.state.sqlite_wal import enable_wal


def _open(path: str) -> str:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        enable_wal(conn, 30)
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    except sqlite3.Error as exc:
        return f"failed: {exc}"
    finally:
        conn.close()


def test_processes_creating_one_file_together_all_switch_to_wal(tmp_path):
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        for trial in range(15):
            path = str(tmp_path / f"new{trial}.db")
            assert pool.map(_open, [path] * 4) == ["wal"] * 4


class _Locked:
    """A connection whose first ``times`` switches answer "database is locked"."""

    def __init__(self, times: int, message: str = "database is locked") -> None:
        self.left, self.message, self.calls = times, message, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.left:
            self.left -= 1
            raise sqlite3.OperationalError(self.message)


def test_the_switch_is_tried_again_while_the_file_is_locked():
    conn = _Locked(times=3)
    enable_wal(conn, 5)  # type: ignore[arg-type]
    assert conn.calls == 4


def test_a_lock_that_outlasts_the_timeout_and_other_errors_are_raised():
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(_Locked(times=10**6), 0.05)  # type: ignore[arg-type]
    other = _Locked(times=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        enable_wal(other, 5)  # type: ignore[arg-type]
    assert other.calls == 1


def test_every_shared_sqlite_file_uses_it():
    # the store, the outbox, the suppression list, the pipeline's journal and the CRM
    core = Path(__file__).resolve().parents[1] / "core" / "aicmo_gateway"
    plain = [
        str(path.relative_to(core))
        for path in core.rglob("*.py")
        if "journal_mode=WAL" in path.read_text(encoding="utf-8").replace(" ", "")
        and path.name != "sqlite_wal.py"
    ]
    assert plain == []
