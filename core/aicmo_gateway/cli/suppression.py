"""``suppression`` and ``unsubscribe``: the suppression list and the one-click endpoint.

Everything heavy (the config loader, asyncio, the stores, uvicorn) is imported inside the
commands, so ``aicmo-gateway --help`` does not pay for it.
"""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from aicmo_gateway.cli._options import config_option, load_option_config
from aicmo_gateway.cli._output import emit_json, table
from aicmo_gateway.config.location import find_config

if TYPE_CHECKING:
    from aicmo_gateway.state.suppression import Entry
    from aicmo_gateway.suppression import Suppression

__all__ = ["suppression", "unsubscribe"]

T = TypeVar("T")
REASONS = ("unsubscribed", "hard_bounce", "complaint", "manual")
_COLUMNS = ("target", "reason", "source", "created_at")


def _list(config_path: Path | None) -> Suppression:
    from aicmo_gateway.state.suppression import open_store
    from aicmo_gateway.suppression import Suppression

    email = load_option_config(config_path)[1].email
    if email.suppression is None:
        raise click.ClickException('[email] suppression is "off": there is no list to manage')
    return Suppression(open_store(email.suppression, email.base_dir))


def _run(call: Coroutine[Any, Any, T]) -> T:
    import asyncio

    from aicmo_gateway.errors import GatewayError

    try:
        return asyncio.run(call)
    except (GatewayError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


def _show(entries: list[Entry], as_json: bool) -> None:
    if as_json:
        emit_json([e.to_json() for e in entries])
        return
    rows = [(e.target, e.reason.value, e.source, e.created_at.isoformat()) for e in entries]
    click.echo(table(_COLUMNS, rows))


@click.group()
def suppression() -> None:
    """The suppression list: addresses and domains no message is sent to."""


@suppression.command()
@config_option
@click.argument("targets", nargs=-1, required=True)
@click.option("--reason", type=click.Choice(REASONS), default="manual", show_default=True)
@click.option("--source", default="cli", show_default=True, help="Where the entry came from.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def add(
    config_path: Path | None, targets: tuple[str, ...], reason: str, source: str, as_json: bool
) -> None:
    """Suppress addresses (alice@example.com) or whole domains (@example.com)."""
    found = _list(config_path)
    entries = [_run(found.add(target, reason, source)) for target in targets]
    _show(entries, as_json)


@suppression.command()
@config_option
@click.argument("targets", nargs=-1, required=True)
@click.option("--reason", type=click.Choice(REASONS), help="Remove only this reason's entry.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def remove(
    config_path: Path | None, targets: tuple[str, ...], reason: str | None, as_json: bool
) -> None:
    """Lift the suppression of addresses or domains."""
    found = _list(config_path)
    removed = {target: _run(found.remove(target, reason)) for target in targets}
    if as_json:
        emit_json({"removed": removed})
        return
    for target, count in removed.items():
        click.echo(f"{target}: {count} entr{'y' if count == 1 else 'ies'} removed")
    if not any(removed.values()):
        raise SystemExit(1)


@suppression.command(name="list")
@config_option
@click.option("--reason", type=click.Choice(REASONS), help="Only this reason's entries.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(config_path: Path | None, reason: str | None, as_json: bool) -> None:
    """Every entry, oldest first."""
    _show(_run(_list(config_path).list(reason)), as_json)


@suppression.command(name="import")
@config_option
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option(
    "--reason",
    type=click.Choice(REASONS),
    default="manual",
    show_default=True,
    help="The reason of rows that give none.",
)
@click.option(
    "--source", default="import", show_default=True, help="The source of rows that give none."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def import_(
    config_path: Path | None, csv_file: Any, reason: str, source: str, as_json: bool
) -> None:
    """Add the entries of a CSV file (columns target or address or email, and optionally
    reason, source, created_at; a file of bare addresses works too). "-" reads standard input.
    """
    from aicmo_gateway.cli._csv import read_entries

    found = _list(config_path)
    try:
        entries = read_entries(csv_file, reason, source)
    except ValueError as exc:
        raise click.ClickException(f"{getattr(csv_file, 'name', '-')}: {exc}") from None
    added = _run(found.add_many(entries))
    if as_json:
        emit_json({"read": len(entries), "added": added})
    else:
        click.echo(f"read {len(entries)} entries, {added} new")


@suppression.command()
@config_option
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write to this file (default: standard output).",
)
@click.option("--json", "as_json", is_flag=True, help="Write JSON instead of CSV.")
def export(config_path: Path | None, output: Any, as_json: bool) -> None:
    """Write every entry as CSV (the columns import reads) or JSON."""
    import csv
    import json

    entries = _run(_list(config_path).list())
    if as_json:
        output.write(json.dumps([e.to_json() for e in entries], indent=2) + "\n")
        return
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(_COLUMNS)
    for e in entries:
        writer.writerow((e.target, e.reason.value, e.source, e.created_at.isoformat()))


@click.group()
def unsubscribe() -> None:
    """The one-click unsubscribe endpoint (RFC 8058)."""


@unsubscribe.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=click.IntRange(0, 65535))
def serve(config_path: Path | None, host: str, port: int) -> None:
    """Answer the unsubscribe links with uvicorn (the core's unsubscribe extra).

    Put it behind your HTTPS proxy at the path of [email] unsubscribe_url.
    """
    try:
        import uvicorn
    except ImportError:
        from aicmo_gateway.plugins.known import how_to_install

        raise click.ClickException(
            "serving needs uvicorn, the core's unsubscribe extra; install it "
            f"{how_to_install('aicmo-gateway', 'unsubscribe')} (or mount "
            "aicmo_gateway.unsubscribe.UnsubscribeApp in your own web server)"
        ) from None
    from aicmo_gateway.errors import GatewayError
    from aicmo_gateway.unsubscribe.app import UnsubscribeApp

    path = find_config(config_path)
    try:
        app = UnsubscribeApp.from_config(path)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"serving unsubscribe links on http://{host}:{port}/<token>", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@unsubscribe.command()
@config_option
@click.argument("address")
@click.option("--list", "list_id", default="", help="The list the link leaves (List-Id).")
def link(config_path: Path | None, address: str, list_id: str) -> None:
    """Print the List-Unsubscribe header a marketing message to ADDRESS gets."""
    from aicmo_gateway.compliance import unsubscribe_headers
    from aicmo_gateway.errors import InvalidInput
    from aicmo_gateway.unsubscribe.token import Signer

    email = load_option_config(config_path)[1].email
    if not email.unsubscribe or email.unsubscribe_secret is None:
        raise click.ClickException(
            "set [email] unsubscribe_url (or unsubscribe_mailto) and unsubscribe_secret first"
        )
    signer = Signer(email.unsubscribe_secret, email.unsubscribe_old_secrets)
    try:
        headers = unsubscribe_headers(
            signer, address, list_id, email.unsubscribe_url, email.unsubscribe_mailto
        )
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    for name, value in headers:
        click.echo(f"{name}: {value}")
    sys.stdout.flush()
