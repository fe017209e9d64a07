"""``demo``: the main job on the built-in providers, with a broken first provider."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aicmo_gateway.cli._output import table

if TYPE_CHECKING:
    from aicmo_gateway.outcome import Outcome

_LEADS = [
    ("Ada Lovelace", "ada@example.com", "Analytical Engines"),
    ("Grace Hopper", "grace@example.org", "COBOL Consulting"),
    ("Søren Kierkegaard", "soren@example.net", "Enten-Eller ApS"),
    ("Hedy Lamarr", "hedy@example.com", "Frequency Hopping GmbH"),
    ("Alan Turing", "alan@example.org", "Bombe Works"),
    ("Katherine Johnson", "katherine@example.net", "Trajectory Labs"),
]

DEMO_CONFIG = """\
# Written by `aicmo-gateway demo`. The first email provider is broken on purpose:
# a Maildir below a regular file can never be written, so every send falls back.
[gateway]
state_dir = "state"            # lets `aicmo-gateway status` and `explain` show this run

[capabilities.email_sending]
providers = ["broken_relay", "outbox_maildir"]

[capabilities.reply_fetching]
providers = ["outbox_maildir"]

[capabilities.crm_sync]
providers = ["crm"]

[providers.broken_relay]
type = "maildir"
path = "/dev/null/unreachable"

[providers.outbox_maildir]
type = "maildir"
path = "Maildir"

[providers.crm]
type = "sqlite"
path = "crm.db"
"""


def _describe(outcome: Outcome) -> str:
    steps = []
    for a in outcome.attempts:
        if a.action.value == "skip":
            steps.append(f"{a.provider}: skipped ({(a.detail or '').split(' until')[0]})")
        else:
            steps.append(f"{a.provider}: {a.action.value}" + (f" ({a.error})" if a.error else ""))
    return " -> ".join(steps)


def rerun_command(argv0: str | None = None) -> str:
    """How to run this command line again from the same shell, with no venv activated.

    ``aicmo-gateway`` when that name on PATH is the script running now; else the
    script's absolute path; else (``python -m``, embedding) this interpreter with ``-m``.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    script = Path(argv0) if argv0 else None
    if script is not None and script.stem == "aicmo-gateway" and script.is_file():
        import shutil

        on_path = shutil.which("aicmo-gateway")
        if on_path is not None and Path(on_path).resolve() == script.resolve():
            return "aicmo-gateway"
        return shlex.quote(str(script.absolute()))
    return f"{shlex.quote(sys.executable)} -m aicmo_gateway"


async def _run(directory: Path) -> list[Outcome]:
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.ports import Contact, EmailMessage, Engagement

    outcomes: list[Outcome] = []
    config = directory / "aicmo-gateway.toml"
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    async with Gateway.from_config(config) as gateway:
        for name, address, company in _LEADS:
            message = EmailMessage(
                to=f"{name} <{address}>",
                sender="Demo Sales <sales@demo.example>",
                subject=f"Quick question for {company}",
                text=f"Hi {name.split()[0]},\n\nWould {company} like to try aicmo-gateway?\n",
            )
            sent = await gateway.email_sending.send(message)
            outcomes.append(sent)
            first, _, last = name.partition(" ")
            outcomes.append(
                await gateway.crm_sync.upsert_contact(
                    Contact(email=address, first_name=first, last_name=last, company=company)
                )
            )
            if sent.ok:
                outcomes.append(
                    await gateway.crm_sync.log_engagement(
                        Engagement(
                            contact_email=address,
                            kind="email_sent",
                            subject=message.subject,
                            external_id=sent.value.message_id,
                        )
                    )
                )
        outcomes.append(await gateway.reply_fetching.fetch_replies(None))
    return outcomes


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-maildir"),
    show_default=True,
    help="Where the demo writes its Maildir and CRM database.",
)
def demo(directory: Path) -> None:
    """Send a few messages through a chain whose first provider is broken.

    The first email provider points at an impossible path, so every send falls
    back to a local Maildir (open it with any mail client, e.g. `mutt -f DIR/Maildir`).
    Contacts and engagements go to a SQLite mini-CRM. No account is needed.
    """
    import asyncio

    from aicmo_gateway.outcome import Status

    directory.mkdir(parents=True, exist_ok=True)
    outcomes = asyncio.run(_run(directory.resolve()))
    rows = []
    for o in outcomes:
        value = o.value
        shown: str | None
        if o.operation == "fetch_replies" and value is not None:
            shown = f"{len(value.replies)} messages read back from the Maildir"
        elif o.operation == "send" and value is not None:
            shown = value.message_id
        else:
            shown = str(getattr(value, "id", "")) if value is not None else o.reason
        rows.append(
            [
                f"{o.capability}.{o.operation}",
                o.status.value,
                o.provider or "-",
                _describe(o),
                shown,
            ]
        )
    click.echo(table(["call", "status", "served by", "attempts", "result"], rows))
    failures = {(a.provider, a.detail) for o in outcomes for a in o.attempts if a.error}
    for provider, detail in sorted(failures, key=str):
        click.echo(f"\n{provider} failed: {detail}")
    click.echo(f"\nMessages: {directory / 'Maildir'}   CRM: {directory / 'crm.db'}")
    command = rerun_command()
    config = shlex.quote(str((directory / "aicmo-gateway.toml").resolve()))
    click.echo(f"Provider health: {command} status --config {config}")
    last_send = [o for o in outcomes if o.operation == "send"][-1]
    click.echo(f"One call's decisions: {command} explain {last_send.call_id} --config {config}")
    if any(o.status is not Status.OK for o in outcomes):
        raise SystemExit(1)
