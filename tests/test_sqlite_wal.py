"""``enable_wal``: processes opening a new SQLite file together must not fail.

SQLite may answer "database is locked" to the switch to WAL at once, without waiting in its
busy handler, while other connections are switching the same new file (each holds a shared
lock and wants an exclusive one: SQLite refuses instead of deadlocking). Four processes
doing a plain ``PRAGMA journal_mode=WAL`` on one new file failed in 27 of 100 trials; this is
what made two fetchers sharing a new suppression list fail now and then. The processes run
as ``python -c`` children, not a ``multiprocessing`` pool (a spawned pool under the
``pytest`` script waits forever for workers that cannot start).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aicmo_gateway.state.sqlite_wal import enable_wal

_WORKER = """
import sqlite3, sys
from pathlib import Path
from aicmo_gateway.state.sqlite_wal import enable_wal

folder, name, trials = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for trial in range(trials):
    (folder / f"ready-{trial}-{name}").touch()
    while not (folder / f"go-{trial}").exists():  # every worker opens the file together
        pass
    conn = sqlite3.connect(folder / f"new{trial}.db", timeout=30, isolation_level=None)
    try:
        enable_wal(conn, 30)
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        print(conn.execute("PRAGMA journal_mode").fetchone()[0], flush=True)
    except sqlite3.Error as exc:
        print(f"failed: {exc}", flush=True)
    finally:
        conn.close()
"""


def test_processes_creating_one_file_together_all_switch_to_wal(tmp_path):
    trials, names = 30, ("a", "b", "c", "d")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(tmp_path), name, str(trials)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in names
    ]
    try:
        for trial in range(trials):  # a start line per file: all four workers are at it
            deadline = time.monotonic() + 60
            while not all((tmp_path / f"ready-{trial}-{name}").exists() for name in names):
                assert time.monotonic() < deadline, f"the workers never reached file {trial}"
                assert all(worker.poll() is None for worker in workers)
                time.sleep(0.0005)
            (tmp_path / f"go-{trial}").touch()
    finally:
        outs = [worker.communicate(timeout=120)[0] for worker in workers]
    for out in outs:
        assert out.split() == ["wal"] * trials, out


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
