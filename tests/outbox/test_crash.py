"""A replayer killed with SIGKILL at random points loses nothing and duplicates nothing.

200 deferred sends sit in a SQLite outbox. 50 times, a replayer process starts, replays
rows one at a time into a counting sender (which records each side effect in its own
SQLite file), and is killed with SIGKILL 0 to 60 ms after it is ready: before a claim,
inside one, between the sender's side effect and the outbox's ``done``, or inside that
update. A last replayer then runs to the end (after the 1 s lease, so rows left
``in_flight`` by a killed replayer are reclaimed).

What this proves:

- **none lost**: every row ends ``done``, and every ``done`` row's key was performed; a
  kill never leaves a row stuck, nor marks one done that was not performed;
- **none duplicated, where keys are honoured**: with a sender that honours the
  idempotency key (the Message-ID derived from it), every key is performed exactly once,
  although some keys were sent more than once (the kill landed between the side effect
  and ``done``: the test checks that this window was hit);
- **at most one duplicate per kill, where they are not**: a sender that ignores keys
  performs a replayed row again when the kill landed in that window, and nothing can
  prevent it (the side effect and the outbox update are two systems; the in-memory ledger
  dies with the process). Each kill interrupts at most one row (``outbox_batch = 1``), so
  duplicates are at most the number of kills: at-least-once, never "n times".
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
) -> tuple[dict[str, int], Counter[str], Counter[str], int]:
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
    states = backend.counts()
    done = {r.idempotency_key for r in backend.rows(RowState.DONE, ROWS)}
    backend.close()
    conn = sqlite3.connect(effects)
    performed = Counter(k for (k,) in conn.execute("SELECT key FROM performed"))
    calls = Counter(k for (k,) in conn.execute("SELECT key FROM calls"))
    conn.close()
    assert len(done) == states["done"]
    print(f"{mode}: {kills} kills, {sum(calls.values())} sends, {states}")
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
    for mode, (states, performed, calls, kills) in results.items():
        assert kills == TRIALS, mode
        assert states["done"] == ROWS, (mode, states)  # none lost: all got through in the end
        assert len(performed) == ROWS, mode  # every row's key was performed
        duplicated = sum(n - 1 for n in performed.values())
        if mode == "honours":
            assert duplicated == 0, performed.most_common(3)
        else:
            assert duplicated <= kills
        # the window between the side effect and "done" was hit at least once
        assert sum(calls.values()) > ROWS, f"{mode}: no kill landed between a send and done"
