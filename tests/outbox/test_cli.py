"""``aicmo-gateway outbox ...`` on a SQLite outbox next to the config file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from aicmo_gateway import Gateway, Status
from aicmo_gateway.cli import cli
from aicmo_gateway.ports import EmailMessage

CONFIG = """
[gateway]
outbox = "sqlite:///outbox.db"

[capabilities.email_sending]
providers = ["mail"]

[providers.mail]
type = "maildir"
path = "maildir"
create = false
"""


def run(*args: str) -> tuple[int, str]:
    """Exit code and output; with ``--json`` standard output alone (warnings of failed
    replays are logged to standard error)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout if "--json" in args else result.output


def defer_two(tmp_path: Path) -> Path:
    config = tmp_path / "aicmo-gateway.toml"
    config.write_text(CONFIG, encoding="utf-8")

    async def send() -> None:
        async with Gateway.from_config(config) as gw:
            for n in (1, 2):
                msg = EmailMessage(to=[f"l{n}@example.com"], subject="Hi", text="x")
                outcome = await gw.email_sending.send(msg, idempotency_key=f"k{n}")
                assert outcome.status is Status.DEFERRED

    asyncio.run(send())
    return config


def test_list_show_replay_retry_purge(tmp_path):
    config = str(defer_two(tmp_path))
    assert (tmp_path / "outbox.db").exists()  # relative to the config's folder
    code, out = run("outbox", "list", "--config", config, "--json")
    data = json.loads(out)
    assert code == 0 and data["counts"]["pending"] == 2
    assert [r["idempotency_key"] for r in data["rows"]] == ["k1", "k2"]
    code, out = run("outbox", "show", "1", "--config", config)
    assert code == 0 and "EmailMessage(to=('l1@example.com',)" in out
    assert "does not exist" in out  # the last error
    code, out = run("outbox", "replay", "--config", config, "--json")
    assert code == 0 and json.loads(out)["pending"] == 2
    (tmp_path / "maildir").mkdir()
    for sub in ("tmp", "new", "cur"):
        (tmp_path / "maildir" / sub).mkdir()
    code, out = run("outbox", "retry", "2", "--config", config, "--json")
    assert code == 0 and json.loads(out)["state"] == "done"
    assert len(list((tmp_path / "maildir" / "new").iterdir())) == 1
    code, out = run("outbox", "purge", "--config", config, "--json")
    assert code == 0 and json.loads(out) == {"removed": 1}
    code, out = run("outbox", "list", "--config", config, "--json")
    assert [r["id"] for r in json.loads(out)["rows"]] == ["1"]


def test_commands_explain_a_config_without_an_outbox(tmp_path):
    config = tmp_path / "aicmo-gateway.toml"
    config.write_text(CONFIG.replace('outbox = "sqlite:///outbox.db"', ""), encoding="utf-8")
    code, out = run("outbox", "list", "--config", str(config))
    assert code == 1 and "sets no [gateway] outbox" in out
    code, out = run("outbox", "show", "x", "--config", str(config))
    assert code != 0


def test_show_and_retry_an_unknown_row(tmp_path):
    config = str(defer_two(tmp_path))
    code, out = run("outbox", "show", "99", "--config", config)
    assert code == 1 and "no outbox row 99" in out
    code, out = run("outbox", "show", "abc", "--config", config)
    assert code == 2 and "not an outbox row id" in out


def test_replay_loop_keeps_replaying_until_interrupted(tmp_path):
    import os
    import queue
    import signal
    import subprocess
    import sys
    import threading

    from aicmo_gateway.state.outbox import open_backend

    config = defer_two(tmp_path)
    for sub in ("tmp", "new", "cur"):
        (tmp_path / "maildir" / sub).mkdir(parents=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aicmo_gateway",
            "outbox",
            "replay",
            "--loop",
            "--json",
            "--interval",
            "0.1",
            "--config",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    # the pass's line is printed after its rows are stored as done: wait for the line, not
    # for the rows, or the interrupt may land between the two and cut the pass's report
    first: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: first.put(proc.stdout.readline()), daemon=True)
    reader.start()
    try:
        line = first.get(timeout=60)
        assert json.loads(line)["done"] == 2  # the pass that claimed rows, as one line
        backend = open_backend(f"sqlite:///{tmp_path / 'outbox.db'}")
        try:
            assert backend.counts()["done"] == 2
        finally:
            backend.close()
        assert proc.poll() is None  # still looping with nothing due
    finally:
        proc.send_signal(signal.SIGINT)
        reader.join(30)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert json.loads(out)["done"] == 2  # after the pass's line, the totals at the end


def test_a_first_interrupt_lets_the_pass_in_flight_finish_and_count(tmp_path):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    from aicmo_gateway.state.outbox import open_backend

    rows = 400
    config = tmp_path / "aicmo-gateway.toml"
    config.write_text(CONFIG, encoding="utf-8")

    async def defer() -> None:
        async with Gateway.from_config(config) as gw:
            for n in range(rows):
                msg = EmailMessage(to=[f"l{n}@example.com"], subject="Hi", text="x")
                outcome = await gw.email_sending.send(msg, idempotency_key=f"k{n}")
                assert outcome.status is Status.DEFERRED

    asyncio.run(defer())
    with sqlite3.connect(tmp_path / "outbox.db") as db:  # every row due now, in one pass
        db.execute("UPDATE outbox SET next_attempt_at = 0")
    new = tmp_path / "maildir" / "new"
    for sub in ("tmp", "new", "cur"):
        (tmp_path / "maildir" / sub).mkdir(parents=True)
    command = ["outbox", "replay", "--json", "--limit", "1000", "--config", str(config)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "aicmo_gateway", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        deadline = time.monotonic() + 60
        while not any(new.iterdir()) and proc.poll() is None:  # the pass has begun
            assert time.monotonic() < deadline, "the replay sent nothing in 60 s"
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    # the interrupted pass was finished and counted: the totals say what the outbox holds
    backend = open_backend(f"sqlite:///{tmp_path / 'outbox.db'}")
    try:
        assert backend.counts()["done"] == rows
    finally:
        backend.close()
    assert json.loads(out)["done"] == rows
    assert len(list(new.iterdir())) == rows


def test_a_second_interrupt_stops_at_once():
    import os
    import signal

    from aicmo_gateway.cli.outbox import _until_stopped

    seen: list[str] = []

    async def work(stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, os.kill, os.getpid(), signal.SIGINT)
        await stop.wait()  # the first interrupt: finish the pass in flight
        seen.append("asked to stop")
        loop.call_later(0.01, os.kill, os.getpid(), signal.SIGINT)
        try:
            await asyncio.sleep(30)  # a pass that would go on
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    before = signal.getsignal(signal.SIGINT)
    try:
        asyncio.run(_until_stopped(work))
    except asyncio.CancelledError:
        seen.append("ended")
    assert seen == ["asked to stop", "cancelled", "ended"]
    assert signal.getsignal(signal.SIGINT) == before  # the handlers are removed again
