"""A replayer killed with SIGKILL at random points loses nothing and duplicates nothing.

200 deferred sends sit in a SQLite outbox. 50 times, a replayer process starts, replays
rows one at a time into a counting sender (which records each side effect in its own
SQLite file), and is killed with SIGKILL 0 to 60 ms after it is ready: before a claim,
inside one, between the sender's side effect and the outbox's ``done``, or inside that
update. A last replayer then runs until no row is pending or in flight (after the 1 s
lease, so rows left ``in_flight`` by a killed replayer are found interrupted).

A row left in flight by a killed replayer may have been performed. What this proves, for
any timing of the kills (the seed fixes them only roughly):

- **where keys are honoured** (the sender performs each Message-ID once), an interrupted
  row is sent again with its key: every row ends ``done`` and every key is performed
  exactly once;
- **where they are not**, an interrupted row is ``held`` for a person to check, never sent
  blindly: every row ends ``done`` (performed exactly once) or ``held`` (performed at most
  once), at most one held row per kill (``outbox_batch = 1``), none dead, none pending,
  none duplicated.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.outbox import RowState, open_backend
from aicmo_gateway.state.outbox.records import encode

HERE = Path(__file__).parent
ROWS = 200
TRIALS = 50


def fill(outbox: Path) -> None:
    backend = open_backend(f"sqlite:///{outbox}")
    backend.migrate()
    for n in range(ROWS):
        msg = EmailMessage(to=[f"lead{n}@example.com"], subject=f"Hello {n}", text="Hi")
        backend.enqueue(
            "email_sending", "send", f"key-{n}", encode(msg), RowState.PENDING, "down", None, 0.0
        )
    backend.close()


def server(outbox: Path, effects: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "crash_replayer.py"), str(outbox), str(effects), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def replayer(forks: subprocess.Popen[str], command: str) -> int:
    """Have the server fork a replayer; its pid once it is ready."""
    assert forks.stdin is not None and forks.stdout is not None
    forks.stdin.write(command + "\n")
    forks.stdin.flush()
    word, pid = forks.stdout.readline().split()
    assert word == "ready"
    return int(pid)


def exit_code(forks: subprocess.Popen[str]) -> int:
    assert forks.stdout is not None
    word, code = forks.stdout.readline().split()
    assert word == "exit"
    return int(code)


def crash_and_finish(
    tmp_path: Path, mode: str, seed: int
) -> tuple[dict[str, RowState], Counter[str], Counter[str], int]:
    """Kill TRIALS replayers, run a last one to the end: (key -> state, performed, calls,
    kills)."""
    rng = random.Random(seed)
    outbox, effects = tmp_path / "outbox.db", tmp_path / "effects.db"
    fill(outbox)
    kills = 0
    forks = server(outbox, effects, mode)
    try:
        for _ in range(TRIALS):
            pid = replayer(forks, "go")
            time.sleep(rng.uniform(0, 0.06))
            os.kill(pid, signal.SIGKILL)
            kills += exit_code(forks) == -signal.SIGKILL
        time.sleep(1.1)  # the lease of rows a killed replayer held ends
        replayer(forks, "final")
        assert exit_code(forks) == 0
    finally:
        assert forks.stdin is not None and forks.stdout is not None
        forks.stdin.close()
        forks.wait(30)
        forks.stdout.close()
    backend = open_backend(f"sqlite:///{outbox}")
    rows = backend.rows(None, ROWS + 1)
    backend.close()
    states = {r.idempotency_key: r.state for r in rows}
    assert len(states) == len(rows)
    for row in rows:
        if row.state is RowState.HELD:  # says what happened and what to do
            assert "a replayer stopped while sending it" in (row.last_error or "")
            assert f"aicmo-gateway outbox retry {row.id}" in (row.last_error or "")
    conn = sqlite3.connect(effects)
    # the subject "Hello N" names the row of key-N
    key = "key-{}".format
    performed = Counter(
        key(s.split()[-1]) for (s,) in conn.execute("SELECT subject FROM performed")
    )
    calls = Counter(key(s.split()[-1]) for (s,) in conn.execute("SELECT subject FROM calls"))
    conn.close()
    print(
        f"{mode}: {kills} kills, {sum(calls.values())} sends, "
        f"{sum(n > 1 for n in calls.values())} keys sent again, {Counter(states.values())}"
    )
    return states, performed, calls, kills


def test_sigkill_at_random_points_loses_nothing(tmp_path):
    modes = ("honours", "ignores")
    for mode in modes:
        (tmp_path / mode).mkdir()
    # both senders at once, each with its own outbox and replayers (half the wall time)
    with ThreadPoolExecutor(2) as pool:
        results = dict(
            zip(
                modes,
                pool.map(lambda m: crash_and_finish(tmp_path / m, m, seed=9), modes),
                strict=True,
            )
        )
    keys = {f"key-{n}" for n in range(ROWS)}
    for mode, (states, performed, _calls, kills) in results.items():
        assert kills == TRIALS, mode
        assert set(states) == keys, mode  # none lost: no row missing
        assert set(performed) <= keys, mode
        if mode == "honours":
            # every row got through, and every key was performed exactly once
            assert set(states.values()) == {RowState.DONE}, (mode, Counter(states.values()))
            assert all(performed[k] == 1 for k in keys), performed.most_common(3)
        else:
            # done (performed exactly once) or held for a decision (performed at most once):
            # none dead, none left pending, none duplicated, one held row per kill at most
            assert set(states.values()) <= {RowState.DONE, RowState.HELD}, Counter(states.values())
            assert all(performed[k] == 1 for k, s in states.items() if s is RowState.DONE)
            assert all(performed[k] <= 1 for k in keys), performed.most_common(3)
            assert sum(s is RowState.HELD for s in states.values()) <= kills
