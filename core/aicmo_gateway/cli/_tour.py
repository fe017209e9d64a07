"""The steps of ``aicmo-gateway demo``: a tour of the gateway on the built-in providers.

Each step is a function of the :class:`Tour` that prints its own section; :data:`STEPS` is
their order. A step checks what it shows and raises :class:`TourError` when the gateway
did something else, so the demo doubles as a smoke test (``tests/test_demo.py``).

No account and no network: both email providers are Maildirs, and an outage is simulated
by putting a regular file where a provider's folder should be (:meth:`Tour.down`), which
every write through it then fails on with ``Unavailable``; :meth:`Tour.up` removes it.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from aicmo_gateway.cli._output import table

if TYPE_CHECKING:
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.outcome import Outcome

__all__ = ["CONFIG", "LEADS", "STEPS", "Tour", "TourError", "describe"]

#: how long the relay's breaker stays open on its first trip (kept short for the demo)
OPEN_SECONDS = 2.0

CONFIG = f"""\
# Written by `aicmo-gateway demo`: a tour of the gateway on the built-in providers.
# No account, no network. The demo simulates an outage of a provider by putting a regular
# file where its folder should be (./relay, ./backup); removing the file ends the outage.
[gateway]
state_dir = "state"                # lets `aicmo-gateway status` and `explain` show this run
outbox = "sqlite:///outbox.db"     # a send no provider performed waits here to be replayed
outbox_backoff = "1s"

[email]
suppression = "sqlite:///suppression.db"

[capabilities.email_sending]
providers = ["relay", "backup"]    # in order of preference

[capabilities.crm_sync]
providers = ["crm"]

# the breaker opens after 3 failures in a row and stays open {OPEN_SECONDS:g} s; only calls over 5 s
# count as slow (by default a call much slower than the provider's usual counts)
[providers.relay]                  # the primary
type = "maildir"
path = "relay/Maildir"
health = {{ consecutive_failures = 3, open_seconds = {OPEN_SECONDS:g}, slow_call_seconds = 5 }}

[providers.backup]
type = "maildir"
path = "backup/Maildir"
health = {{ slow_call_seconds = 5 }}

[providers.crm]
type = "sqlite"
path = "crm.db"
"""

#: (first name, last name, address, company)
LEADS = [
    ("Ada", "Lovelace", "ada@example.com", "Analytical Engines"),
    ("Grace", "Hopper", "grace@example.org", "COBOL Consulting"),
    ("Hedy", "Lamarr", "hedy@example.com", "Frequency Hopping GmbH"),
    ("Alan", "Turing", "alan@example.org", "Bombe Works"),
    ("Katherine", "Johnson", "katherine@example.net", "Trajectory Labs"),
    ("Søren", "Kierkegaard", "soren@example.net", "Enten-Eller ApS"),
]


class TourError(Exception):
    """The gateway did not do what the tour shows: the demo exits 1 with this text."""


@attrs.define
class Tour:
    """What the steps share: the folder, the config, the gateway, the calls worth recalling."""

    directory: Path
    #: how to run this command line again from the reader's shell
    command: str
    gateway: Gateway | None = None
    #: call ids by what they show (``"deferred"``, ...)
    calls: dict[str, str] = attrs.field(factory=dict)
    #: every command printed for the reader to try, in order
    printed: list[str] = attrs.field(factory=list)

    @property
    def config(self) -> Path:
        return self.directory / "aicmo-gateway.toml"

    @property
    def gw(self) -> Gateway:
        assert self.gateway is not None
        return self.gateway

    def down(self, provider: str) -> None:
        """Simulate an outage: a regular file where the provider's folder should be."""
        folder = self.directory / provider
        if folder.is_dir():
            folder.rename(self.directory / f".{provider}.parked")
        folder.write_text("an outage simulated by `aicmo-gateway demo`\n", encoding="utf-8")

    def up(self, provider: str) -> None:
        """End the outage: the file goes, the provider's folder comes back."""
        folder = self.directory / provider
        if folder.is_file():
            folder.unlink()
        parked = self.directory / f".{provider}.parked"
        if parked.is_dir():
            parked.rename(folder)

    def try_command(self, *args: str | Path) -> None:
        """Print a command for the reader, exactly as it runs from their shell."""
        line = " ".join([self.command, *(shlex.quote(str(a)) for a in args)])
        self.printed.append(line)
        click.echo(f"  $ {line}")

    def config_args(self) -> tuple[str, Path]:
        return ("--config", self.config)

    async def send(self, lead: tuple[str, str, str, str]) -> Outcome:
        from aicmo_gateway.ports import Contact, EmailMessage

        first, last, address, company = lead
        message = EmailMessage(
            to=f"{first} {last} <{address}>",
            sender="Demo Sales <sales@demo.example>",
            subject=f"Quick question for {company}",
            text=f"Hi {first},\n\nWould {company} like to try aicmo-gateway?\n",
        )
        sent = await self.gw.email_sending.send(message)
        contact = Contact(email=address, first_name=first, last_name=last, company=company)
        expect((await self.gw.crm_sync.upsert_contact(contact)).ok, f"{address}: CRM upsert")
        return sent


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise TourError(f"the demo expected otherwise: {what}")


def describe(outcome: Outcome) -> str:
    """The attempts of a call in one line: ``relay: fallback (Unavailable) -> backup: done``."""
    steps = []
    for a in outcome.attempts:
        if a.action.value == "skip":
            steps.append(f"{a.provider}: skipped ({(a.detail or '').split(' until')[0]})")
        else:
            steps.append(f"{a.provider}: {a.action.value}" + (f" ({a.error})" if a.error else ""))
    return " -> ".join(steps) or "-"


def _calls(rows: list[tuple[str, Outcome]]) -> None:
    click.echo(
        table(
            ["to", "status", "served by", "attempts"],
            [[to, o.status.value, o.provider or "-", describe(o)] for to, o in rows],
        )
    )


def _status(tour: Tour) -> dict[str, dict[str, Any]]:
    rows = {p["provider"]: p for p in tour.gw.status() if p["capability"] == "email_sending"}
    click.echo(
        table(
            ["provider", "health", "breaker", "failures", "reason"],
            [
                [
                    name,
                    p["health"],
                    p["state"],
                    f"{p['failure_rate']:.0%} of {p['calls']}",
                    p["reason"] or "",
                ]
                for name, p in rows.items()
            ],
        )
    )
    return rows


# -- the steps ------------------------------------------------------------------------


async def failover(tour: Tour) -> None:
    """The primary is down: each send falls back to the backup."""
    tour.down("relay")
    click.echo("The relay (the primary) is down. Two sends, each also recorded in the CRM:")
    rows = [(lead[2], await tour.send(lead)) for lead in LEADS[:2]]
    _calls(rows)
    for to, outcome in rows:
        expect(outcome.ok and outcome.provider == "backup", f"{to} sent by the backup")
        expect(outcome.attempts[0].action.value == "fallback", f"{to}: the relay failed first")


async def breaker(tour: Tour) -> None:
    """The third failure in a row opens the relay's breaker: the next send skips it."""
    click.echo(
        "The third failure in a row opens the relay's circuit breaker; the next send does not "
        "wait on it:"
    )
    rows = [(lead[2], await tour.send(lead)) for lead in LEADS[2:4]]
    _calls(rows)
    skipped = rows[-1][1]
    expect(skipped.attempts[0].action.value == "skip", "the relay skipped once its breaker opened")
    tour.calls["skipped"] = skipped.call_id


async def status(tour: Tour) -> None:
    """What ``aicmo-gateway status`` shows now."""
    click.echo("Provider health as `aicmo-gateway status` shows it:")
    rows = _status(tour)
    # open; half-open already if this machine took the whole open period to get here
    expect(rows["relay"]["state"] in {"open", "half_open"}, "the relay's breaker open")
    # serving (healthy, or degraded when this machine was slow enough for a slow call)
    expect(rows["backup"]["state"] == "closed", "the backup serving")
    click.echo("Try it (it shows the health recorded when the demo ended):")
    tour.try_command("status", *tour.config_args())


async def deferred(tour: Tour) -> None:
    """Every provider is down: the send is stored in the outbox, not lost."""
    tour.down("backup")
    click.echo("The backup goes down too. A send no provider performed waits in the outbox:")
    outcome = await tour.send(LEADS[4])
    _calls([(LEADS[4][2], outcome)])
    expect(outcome.status.value == "deferred", "the send deferred to the outbox")
    click.echo(f"stored as outbox row {outcome.outbox_id} (SQLite: {tour.directory / 'outbox.db'})")
    tour.calls["deferred"] = outcome.call_id
    click.echo("Try it (the row is done by now; the demo replays it below):")
    tour.try_command("outbox", "list", *tour.config_args())


async def recovery(tour: Tour) -> None:
    """The providers come back: the breaker half-opens, a probe closes it, the outbox drains."""
    tour.up("relay")
    tour.up("backup")
    relay = next(s for s in tour.gw.chains["email_sending"].slots if s.name == "relay")
    wait = relay.health.time_until_available()
    click.echo(
        f"Both providers are back. The relay's breaker half-opens after its open period "
        f"({wait:.1f} s from now); then the outbox is replayed, its send is the probe:"
    )
    if wait > 0:
        await asyncio.sleep(min(wait, 30.0) + 0.05)
    outbox = tour.gw.outbox
    assert outbox is not None  # the demo's config sets one
    report = await outbox.replay()
    click.echo(f"outbox replay: {report.claimed} claimed, {report.done} done")
    expect(report.done == 1, "the deferred send replayed")
    [row] = await outbox.rows()
    record = tour.gw.audit.get(row.call_id) if row.call_id else None
    expect(record is not None and record.outcome.ok, "the replayed send in the audit trail")
    assert record is not None
    click.echo(
        f"row {row.id} is {row.state.value}: sent by {record.outcome.provider} "
        f"(call {row.call_id}, with the original idempotency key)"
    )
    outcome = await tour.send(LEADS[5])
    _calls([(LEADS[5][2], outcome)])
    expect(outcome.provider == "relay", "the recovered relay serving again")
    rows = _status(tour)
    expect(rows["relay"]["state"] == "closed", "the relay's breaker closed again")


async def explain(tour: Tour) -> None:
    """One call's decisions, as ``aicmo-gateway explain`` prints them."""
    call_id = tour.calls["deferred"]
    click.echo("Why the deferred send went to the outbox, as `aicmo-gateway explain` prints it:")
    click.echo(tour.gw.explain(call_id))
    click.echo("Try it (and the send the open breaker skipped the relay for):")
    tour.try_command("explain", call_id, *tour.config_args())
    tour.try_command("explain", tour.calls["skipped"], *tour.config_args())


async def pipeline(tour: Tour) -> None:
    """The lead pipeline on a few leads, when this installation has it."""
    import importlib.util

    from aicmo_gateway.cli import cli

    command = cli.get_command(click.get_current_context(), "pipeline")
    if importlib.util.find_spec("aicmo_gateway.pipeline") is None or command is None:
        click.echo(
            "skipped: this installation has no `aicmo-gateway pipeline` command "
            "(aicmo_gateway.pipeline is not importable)"
        )
        return
    from aicmo_gateway.pipeline.template import require

    try:
        require()  # Jinja2 and rich: the core's pipeline extra, not installed by `pip install .`
    except ModuleNotFoundError as exc:
        click.echo(f"skipped: {exc}")
        return
    leads = tour.directory / "leads.csv"
    lines = ["email,first_name,last_name,company"]
    lines += [f"{address},{first},{last},{company}" for first, last, address, company in LEADS]
    leads.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = tour.directory / "pipeline"
    args = ["run", str(leads), "--data-dir", str(data)]
    click.echo(
        "Six leads through the pipeline (enrich, verify, CRM, first email, webhook; a step "
        f"with no provider configured is skipped), its files in {data}:"
    )
    code = await asyncio.to_thread(_invoke, command, args)
    expect(code == 0, f"`aicmo-gateway pipeline run` exited 0, not {code}")
    click.echo("Try it again: the second run sends nothing twice:")
    tour.try_command("pipeline", *args)


def _invoke(command: click.Command, args: list[str]) -> int:
    """Run a subcommand in this process; its exit code."""
    try:
        command.main(args, prog_name="aicmo-gateway pipeline", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


#: the tour, in order: (heading, step)
STEPS: list[tuple[str, Callable[[Tour], Awaitable[None]]]] = [
    ("Failover: the relay is down, the backup serves", failover),
    ("The breaker opens", breaker),
    ("Status", status),
    ("Everything down: the send waits in the outbox", deferred),
    ("Recovery: the relay serves again, the outbox is replayed", recovery),
    ("Explain one call", explain),
    ("The pipeline on a few leads", pipeline),
]
