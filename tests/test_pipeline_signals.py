"""Ctrl-C and SIGTERM on a real ``aicmo-gateway pipeline run`` process.

The sender is a plugin (an installed distribution on the child's path) that appends each
message it takes to ``sent.log`` and, for the address named by ``hold``, announces
``gate: holding ADDRESS`` on standard error and then waits until a ``release`` file exists:
the test knows a send is in flight from that line, signals the process, waits for its
``stopping`` line, and then releases the send (or never does). No sleep synchronises
anything: every wait is for a line of output, with a deadline.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import aicmo_gateway

CORE = Path(aicmo_gateway.__file__).resolve().parent.parent
TOTAL = 8
HELD = "lead2@example.com"  # the third lead: two are sent before it

GATE = """
import asyncio, os, sys

import attrs

from aicmo_gateway import ProviderType, hookimpl
from aicmo_gateway.ports import SendReceipt


@attrs.define
class Gate:
    log: str
    hold: str = ""
    release: str = "release"
    # whether a repeated Message-ID is dropped (declared below as the type's idempotency)
    dedupe: bool = False

    async def send(self, message):
        to = message.to[0]
        seen = os.path.exists(self.log) and message.message_id in open(self.log).read()
        if not (self.dedupe and seen):
            with open(self.log, "a") as log:  # the side effect happens, then the reply waits
                log.write(f"{message.message_id} {to}\\n")
        if self.hold and self.hold in to:
            print(f"gate: holding {to}", file=sys.stderr, flush=True)
            while not os.path.exists(self.release):
                await asyncio.sleep(0.01)
        return SendReceipt(message_id=message.message_id)


@hookimpl
def aicmo_email_senders():
    return [
        ProviderType("gate", Gate, "a sender a test holds"),
        ProviderType("dedupe_gate", lambda **kw: Gate(dedupe=True, **kw), "the same, "
                     "dropping a repeated Message-ID", idempotency="message_id"),
    ]
"""

CONFIG = """
[pipeline]
concurrency = 1
journal = "journal.db"
[capabilities.crm_sync]
providers = ["crm"]
[providers.crm]
type = "sqlite"
path = "crm.db"
[capabilities.email_sending]
providers = ["gate"]
[providers.gate]
type = "{type}"
log = "sent.log"
hold = "{hold}"
"""


class Child:
    """A running ``pipeline run``, its output read line by line as it comes."""

    def __init__(self, workdir: Path, site: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "AICMO_GATEWAY_CONFIG"}
        env["PYTHONPATH"] = os.pathsep.join([str(site), str(CORE), env.get("PYTHONPATH", "")])
        command = [sys.executable, "-m", "aicmo_gateway", "pipeline", "run", "leads.csv"]
        self.process = subprocess.Popen(
            [*command, "--jsonl", *args],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout)),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr, True)),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: list[str], announce: bool = False) -> None:
        for line in stream:
            into.append(line)
            if announce:
                self._lines.put(line)
        stream.close()
        if announce:
            self._lines.put(None)

    def wait_for(self, text: str) -> None:
        """Until a line of standard error contains ``text`` (60 seconds at most)."""
        while True:
            try:
                line = self._lines.get(timeout=60)
            except queue.Empty:
                pytest.fail(f"no line with {text!r} within 60s: {''.join(self.stderr)[-2000:]}")
            if line is None:
                pytest.fail(f"the run ended before {text!r}: {''.join(self.stderr)[-2000:]}")
            if text in line:
                return

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def end(self) -> tuple[int, list[dict], dict]:
        """Wait for the exit (60 seconds at most); its code, lead lines and summary."""
        try:
            code = self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for reader in self._readers:
                reader.join()
        records = [json.loads(line) for line in self.stdout]
        assert records and records[-1]["type"] == "summary", "".join(self.stderr)[-2000:]
        return code, [r for r in records if r["type"] == "lead"], records[-1]


@pytest.fixture
def run_in(make_dist, site: Path, tmp_path: Path):
    make_dist("aicmo-gateway-gate", GATE)
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "leads.csv").write_text(
        "email\n" + "".join(f"lead{i}@example.com\n" for i in range(TOTAL)), encoding="utf-8"
    )

    def start(*args: str, type: str = "gate", hold: str = HELD) -> Child:
        config = CONFIG.format(type=type, hold=hold)
        (workdir / "aicmo-gateway.toml").write_text(config, encoding="utf-8")
        return Child(workdir, site, *args)

    start.workdir = workdir  # type: ignore[attr-defined]
    return start


def sent(workdir: Path) -> list[str]:
    """The recipients of every message the gate took, in order (one line each)."""
    log = workdir / "sent.log"
    return [line.split()[1] for line in log.read_text().splitlines()] if log.exists() else []


def engagements(workdir: Path) -> list[str]:
    conn = sqlite3.connect(workdir / "crm.db")
    try:
        return sorted(r[0] for r in conn.execute("select contact_email from engagements"))
    finally:
        conn.close()


EVERY = sorted(f"lead{i}@example.com" for i in range(TOTAL))


@pytest.mark.parametrize(("sig", "name"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_a_first_signal_lets_the_step_in_flight_end_and_starts_no_new_lead(run_in, sig, name):
    workdir = run_in.workdir
    child = run_in()
    child.wait_for(f"gate: holding {HELD}")
    child.signal(sig)
    child.wait_for(f"{name}: stopping")
    (workdir / "release").touch()  # the send in flight answers now
    code, leads, summary = child.end()

    assert code == 130
    assert summary["interrupted"] is True and summary["stop"] == "graceful"
    assert sent(workdir) == ["lead0@example.com", "lead1@example.com", HELD]  # no new lead
    assert [lead["lead"] for lead in leads] == ["lead0@example.com", "lead1@example.com", HELD]
    held = leads[-1]
    # the lead in flight ended its current step (the email) and stopped before the next one
    assert held["finished"] is False and held["steps"]["email"]["status"] == "ok"
    assert "engagement" not in held["steps"]
    assert summary["stopped_leads"] == 1 and summary["leads"] == 3

    again = run_in(hold="")
    code, leads, summary = again.end()
    assert code == 0 and summary["interrupted"] is False
    assert sorted(sent(workdir)) == EVERY  # every lead once, the held one not again
    assert engagements(workdir) == EVERY
    by_lead = {lead["lead"]: lead["steps"] for lead in leads}
    assert by_lead[HELD]["email"] == {
        **by_lead[HELD]["email"],
        "status": "earlier",
        "earlier": "ok",
    }
    assert by_lead[HELD]["engagement"]["status"] == "ok"


@pytest.mark.parametrize("type_", ["gate", "dedupe_gate"])
def test_a_second_signal_stops_at_once_and_the_send_in_flight_is_never_duplicated(run_in, type_):
    workdir = run_in.workdir
    child = run_in(type=type_)
    child.wait_for(f"gate: holding {HELD}")
    child.signal(signal.SIGINT)
    child.wait_for("Ctrl-C: stopping")
    child.signal(signal.SIGINT)  # the held send never answers
    code, leads, summary = child.end()

    assert code == 130 and summary["stop"] == "immediate"
    held = leads[-1]
    assert held["lead"] == HELD and held["finished"] is False
    assert held["steps"]["email"]["status"] == "uncertain"
    assert held["steps"]["email"]["error"] == "CancelledError"
    assert summary["steps"]["email"]["uncertain"] == 1
    assert sent(workdir).count(HELD) == 1  # the gate took it before its reply was cut off

    (workdir / "release").touch()
    code, leads, summary = run_in(type=type_).end()
    email = {lead["lead"]: lead["steps"]["email"] for lead in leads}
    if type_ == "dedupe_gate":
        # the provider drops a repeated Message-ID: the send is repeated with its key
        assert code == 0
        assert email[HELD]["status"] == "ok"
        assert engagements(workdir) == EVERY
    else:
        # nothing says a repeat would be dropped: it stays uncertain, for a person to check
        assert email[HELD] == {**email[HELD], "status": "earlier", "earlier": "uncertain"}
        assert engagements(workdir) == [e for e in EVERY if e != HELD]
    assert sorted(sent(workdir)) == EVERY  # every lead once: none lost, none twice


def test_the_stop_timeout_ends_a_graceful_stop_that_takes_too_long(run_in):
    child = run_in("--stop-timeout", "0.2")
    child.wait_for(f"gate: holding {HELD}")
    child.signal(signal.SIGTERM)
    code, leads, summary = child.end()  # the held send never answers: the timeout stops it
    assert code == 130 and summary["stop"] == "immediate"
    assert leads[-1]["steps"]["email"]["status"] == "uncertain"
    assert sent(run_in.workdir).count(HELD) == 1
