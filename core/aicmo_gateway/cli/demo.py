"""``demo``: a tour of the whole gateway on the built-in providers, in a few seconds.

Calls failing over, a circuit breaker opening, ``status`` changing, the provider
recovering, a send deferred to the outbox and replayed, ``explain`` on one call and the
lead pipeline (when installed). The steps are in :mod:`aicmo_gateway.cli._tour`.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from aicmo_gateway.cli._tour import Tour

__all__ = ["demo", "rerun_command"]


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


async def _run(tour: Tour) -> None:
    from aicmo_gateway.cli._tour import CONFIG, STEPS
    from aicmo_gateway.gateway import Gateway

    tour.config.write_text(CONFIG, encoding="utf-8")
    async with Gateway.from_config(tour.config) as gateway:
        tour.gateway = gateway
        for number, (heading, step) in enumerate(STEPS, 1):
            click.echo(f"\n== {number}. {heading} ==\n")
            await step(tour)
    tour.gateway = None


#: the file that marks a folder as the demo's, so a later run may empty it
MARKER = ".aicmo-gateway-demo"


def _fresh(directory: Path | None) -> Path:
    """The demo's folder, new or emptied; refused when it holds anything the demo did not write."""
    import shutil
    import tempfile

    if directory is None:
        folder = Path(tempfile.mkdtemp(prefix="aicmo-gateway-demo-")).resolve()
    else:
        folder = directory.resolve()
        if folder.exists() and not folder.is_dir():
            raise click.UsageError(f"--dir {folder} is a file; give a folder")
        if folder.exists() and any(folder.iterdir()):
            if not (folder / MARKER).is_file():
                raise click.UsageError(
                    f"--dir {folder} is not empty and holds no earlier demo; "
                    "give an empty or new folder"
                )
            shutil.rmtree(folder)  # an earlier demo's: start afresh, so the tour runs the same
        folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(
        "written by `aicmo-gateway demo`, which empties this folder when run on it again\n",
        encoding="utf-8",
    )
    return folder


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo writes its config, Maildirs, CRM, outbox and state "
    "(default: a new temporary folder; an earlier demo's folder is started afresh).",
)
def demo(directory: Path | None) -> None:
    """A tour of the gateway on the built-in providers: no account, no network.

    Email goes through a chain of two Maildir providers (a relay and a backup) whose
    outages the demo simulates; contacts go to a SQLite mini-CRM, sends no provider
    performed to a SQLite outbox. It shows failover, the circuit breaker opening,
    `status`, recovery, the outbox replayed, `explain` on one call and, when installed,
    the lead pipeline; and prints commands to try on what it wrote. Exits 1 if the
    gateway did not behave as shown.
    """
    import asyncio

    from aicmo_gateway.cli._tour import Tour, TourError

    started = time.monotonic()
    folder = _fresh(directory)
    click.echo(f"aicmo-gateway demo: writing into {folder}")
    tour = Tour(folder, rerun_command())
    try:
        asyncio.run(_run(tour))
    except TourError as exc:
        click.echo(f"\nerror: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo("\n== Where to look ==\n")
    click.echo(f"config:    {tour.config}")
    click.echo(f"messages:  {folder / 'backup' / 'Maildir'} and {folder / 'relay' / 'Maildir'}")
    click.echo("           (real RFC 5322 files: open them with any mail client, e.g. mutt -f)")
    click.echo(f"CRM:       {folder / 'crm.db'} (SQLite: tables contacts, engagements)")
    click.echo(f"outbox:    {folder / 'outbox.db'}")
    click.echo(f"state:     {folder / 'state'} (what status and explain read)")
    click.echo(f"\ndone in {time.monotonic() - started:.1f} s")
