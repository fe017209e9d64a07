"""``outbox list | show ID | retry ID | replay [--loop] | purge``: the stored writes.

Heavy imports (the gateway, the backends) happen inside the commands, so registering
this group costs the command line's start-up nothing.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aicmo_gateway.cli._options import config_option, load_option_config
from aicmo_gateway.cli._output import emit_json, table

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable

    from aicmo_gateway.config.load import GatewayConfig
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.state.outbox import Outbox, Row

_STATES = ("pending", "in_flight", "done", "dead", "held")

_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _config(config_path: Path | None) -> GatewayConfig:
    path, config = load_option_config(config_path)
    if config.outbox is None:
        raise click.ClickException(
            f"{path} sets no [gateway] outbox, so nothing is stored; add "
            'outbox = "sqlite:///outbox.db" under [gateway]'
        )
    return config


def _gateway(config_path: Path | None) -> Gateway:
    from aicmo_gateway.errors import ConfigError
    from aicmo_gateway.gateway import Gateway

    config = _config(config_path)
    try:
        return Gateway.from_config(config.source)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _outbox(config_path: Path | None) -> Outbox:
    """The outbox alone (no providers built): for looking and cleaning."""
    from aicmo_gateway.state.outbox import Outbox, open_backend

    config = _config(config_path)
    assert config.outbox is not None
    try:
        backend = open_backend(config.outbox.url, config.base_dir)
        backend.migrate()
    except Exception as exc:
        raise click.ClickException(
            f"cannot open the outbox {config.outbox_shown}: {type(exc).__name__}"
        ) from None
    return Outbox(backend, config.outbox)


def _row_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an outbox row id (a number)") from None


def _show(row: Row, as_json: bool) -> None:
    data = row.to_json()
    if as_json:
        emit_json(data)
        return
    from aicmo_gateway.state.outbox.records import RecordError, decode

    for key, value in data.items():
        click.echo(f"{key + ':':17} {'-' if value is None else value}")
    try:
        payload: Any = repr(decode(row.payload))
    except RecordError as exc:
        payload = f"(unreadable: {exc})"
    click.echo(f"{'payload:':17} {payload}")


@click.group("outbox")
def outbox_group() -> None:
    """Writes no provider performed, stored for replay ([gateway] outbox)."""


@outbox_group.command("list")
@config_option
@click.option("--state", type=click.Choice(_STATES), help="Only rows in this state.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@_json_option
def list_rows(config_path: Path | None, state: str | None, limit: int, as_json: bool) -> None:
    """The stored rows, oldest first, and how many there are in each state."""
    import asyncio

    from aicmo_gateway.state.outbox import RowState

    box = _outbox(config_path)
    try:
        rows = asyncio.run(box.rows(RowState(state) if state else None, limit))
        counts = asyncio.run(box.counts())
    finally:
        box.close()
    if as_json:
        emit_json({"counts": counts, "rows": [r.to_json() for r in rows]})
        return
    click.echo(
        table(
            ["id", "state", "capability.operation", "attempts", "next attempt", "last error"],
            [
                [
                    r.id,
                    r.state.value,
                    f"{r.capability}.{r.operation}",
                    r.attempts,
                    r.to_json()["next_attempt_at"][:19] if r.state.value == "pending" else "-",
                    (r.last_error or "-")[:60],
                ]
                for r in rows
            ],
        )
    )
    click.echo("\n" + ", ".join(f"{n} {s}" for s, n in counts.items()))


@outbox_group.command("show")
@click.argument("row_id")
@config_option
@_json_option
def show(row_id: str, config_path: Path | None, as_json: bool) -> None:
    """One row: its state, attempts, last error and what it would send."""
    import asyncio

    box = _outbox(config_path)
    try:
        row = asyncio.run(box.get(_row_id(row_id)))
    finally:
        box.close()
    if row is None:
        raise click.ClickException(f"no outbox row {row_id}")
    _show(row, as_json)


@outbox_group.command("retry")
@click.argument("row_id")
@config_option
@_json_option
def retry(row_id: str, config_path: Path | None, as_json: bool) -> None:
    """Replay one row now, whatever its state: the only way a held row is replayed.

    Exits 1 unless the row ends done.
    """
    import asyncio

    number = _row_id(row_id)
    gateway = _gateway(config_path)

    async def run() -> Row | None:
        async with gateway:
            assert gateway.outbox is not None
            return await gateway.outbox.retry(number)

    row = asyncio.run(run())
    if row is None:
        raise click.ClickException(f"no outbox row {row_id}")
    _show(row, as_json)
    if row.state.value != "done":
        raise SystemExit(1)


@outbox_group.command("replay")
@config_option
@click.option("--loop", is_flag=True, help="Keep replaying due rows until interrupted.")
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between passes with --loop when nothing was due.",
)
@click.option("--limit", type=click.IntRange(1, 100_000), help="Rows per pass (outbox_batch).")
@_json_option
def replay(
    config_path: Path | None, loop: bool, interval: float, limit: int | None, as_json: bool
) -> None:
    """Send the due pending rows through their chains (and the ledger), once each.

    Without --loop, passes run until no row is due, then the totals are printed. Ctrl-C (or
    SIGTERM) lets the pass in flight finish and counts it; a second one stops at once (exit
    130; that pass's rows stay leased and are replayed once their lease ends).
    """
    import asyncio

    gateway = _gateway(config_path)
    totals: dict[str, int] = {}

    async def passes(stop: asyncio.Event) -> None:
        async with gateway:
            assert gateway.outbox is not None
            while True:
                report = await gateway.outbox.replay(limit=limit)
                for key, value in report.to_json().items():
                    totals[key] = totals.get(key, 0) + value
                if loop and as_json and report.claimed:
                    click.echo(emit_line(report.to_json()))
                if stop.is_set():
                    return
                if report.claimed == 0:
                    if not loop:
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), interval)
                    if stop.is_set():
                        return

    forced = False
    try:
        asyncio.run(_until_stopped(passes))
    except asyncio.CancelledError:  # a second signal: the pass in flight was cut
        forced = True
    except KeyboardInterrupt:  # no handler could be installed: Ctrl-C ends it as it is
        pass
    if as_json:
        emit_json(totals)
    else:
        click.echo(", ".join(f"{n} {k}" for k, n in totals.items()))
    if forced:
        click.echo(
            "stopped in the middle of a pass: its rows stay leased and are replayed once "
            "their lease ends (outbox_lease)",
            err=True,
        )
        raise SystemExit(130)


async def _until_stopped(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``work(stop)``; the first SIGINT or SIGTERM sets ``stop`` (the work ends after
    its pass), the second cancels it (:func:`~aicmo_gateway.cli._signals.on_stop_signals`)."""
    import asyncio

    from aicmo_gateway.cli._signals import on_stop_signals

    stop = asyncio.Event()
    task = asyncio.current_task()
    assert task is not None

    def received(name: str) -> None:
        if stop.is_set():
            task.cancel()
            return
        stop.set()
        click.echo(f"{name}: stopping after this pass (press it again to stop now)", err=True)

    undo = on_stop_signals(received)
    try:
        await work(stop)
    finally:
        undo()


def emit_line(data: dict[str, int]) -> str:
    import json

    return json.dumps(data, sort_keys=True)


@outbox_group.command("purge")
@config_option
@click.option("--dead", is_flag=True, help="Remove dead rows too (they were never performed).")
@click.option(
    "--older-than",
    "older_than",
    default="0s",
    show_default=True,
    help='Only rows last changed this long ago ("7d", "12h", "30m").',
)
@_json_option
def purge(config_path: Path | None, dead: bool, older_than: str, as_json: bool) -> None:
    """Remove done rows (and dead ones with --dead); pending and held rows stay."""
    import asyncio

    from aicmo_gateway.state.outbox import RowState

    seconds = _duration(older_than)
    states = (RowState.DONE, RowState.DEAD) if dead else (RowState.DONE,)
    box = _outbox(config_path)
    try:
        removed = asyncio.run(box.purge(states, seconds))
    finally:
        box.close()
    if as_json:
        emit_json({"removed": removed})
    else:
        click.echo(f"removed {removed} row{'s' if removed != 1 else ''}")


def _duration(text: str) -> float:
    units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise click.BadParameter(f"{text!r} is not a duration: write e.g. 7d, 12h, 30m or 90s")
    return value
