"""Ctrl-C and SIGTERM on a real ``aicmo-gateway pipeline run`` process.

The sender is a plugin (an installed distribution on the child's path) that appends each
message it takes to ``sent.log`` and, for the address named by ``hold``, announces
``gate: holding ADDRESS`` on standard error and then waits until a ``release`` file exists:
the test knows a send is in flight from that line, signals the process, waits for its
``stopping`` line, and then releases the send (or never does). No sleep synchronises
anything: every wait is for a line of output, with a deadline.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.pipeline_helpers import Child, rows, write

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


@pytest.fixture
def run_in(make_dist, site: Path, tmp_path: Path):
    """``run_in(*args, type=..., hold=...)``: a :class:`Child` with ``--jsonl`` on the gate."""
    make_dist("aicmo-gateway-gate", GATE)
    workdir = tmp_path / "work"
    workdir.mkdir()
    leads = "email\n" + "".join(f"lead{i}@example.com\n" for i in range(TOTAL))
    write(workdir, leads=leads)

    def start(*args: str, type: str = "gate", hold: str = HELD) -> Child:
        write(workdir, config=CONFIG.format(type=type, hold=hold))
        return Child(workdir, "--jsonl", *args, path=(site,))

    start.workdir = workdir  # type: ignore[attr-defined]
    return start


def sent(workdir: Path) -> list[str]:
    """The recipients of every message the gate took, in order (one line each)."""
    log = workdir / "sent.log"
    return [line.split()[1] for line in log.read_text().splitlines()] if log.exists() else []


def engagements(workdir: Path) -> list[str]:
    return sorted(
        str(r[0]) for r in rows(workdir / "crm.db", "select contact_email from engagements")
    )


EVERY = sorted(f"lead{i}@example.com" for i in range(TOTAL))


@pytest.mark.parametrize(("sig", "name"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_a_first_signal_lets_the_step_in_flight_end_and_starts_no_new_lead(run_in, sig, name):
    workdir = run_in.workdir
    child = run_in()
    child.wait_for(f"gate: holding {HELD}")
    child.process.send_signal(sig)
    child.wait_for(f"{name}: stopping")
    (workdir / "release").touch()  # the send in flight answers now
    code = child.end()
    leads, summary = child.records()

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
    code = again.end()
    leads, summary = again.records()
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
    child.process.send_signal(signal.SIGINT)
    child.wait_for("Ctrl-C: stopping")
    child.process.send_signal(signal.SIGINT)  # the held send never answers
    code = child.end()
    leads, summary = child.records()

    assert code == 130 and summary["stop"] == "immediate"
    held = leads[-1]
    assert held["lead"] == HELD and held["finished"] is False
    assert held["steps"]["email"]["status"] == "uncertain"
    assert held["steps"]["email"]["error"] == "CancelledError"
    assert summary["steps"]["email"]["uncertain"] == 1
    assert sent(workdir).count(HELD) == 1  # the gate took it before its reply was cut off

    (workdir / "release").touch()
    again = run_in(type=type_)
    code = again.end()
    leads, summary = again.records()
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
    child.process.send_signal(signal.SIGTERM)
    code = child.end()  # the held send never answers: the timeout stops it
    leads, summary = child.records()
    assert code == 130 and summary["stop"] == "immediate"
    assert leads[-1]["steps"]["email"]["status"] == "uncertain"
    assert sent(run_in.workdir).count(HELD) == 1
