"""``status`` and ``explain``: what running gateways recorded in their state folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from aicmo_gateway.cli._output import config_option, emit_json, table
from aicmo_gateway.config.location import ENV_CONFIG, find_config

if TYPE_CHECKING:
    from aicmo_gateway.state.files import StateFiles


def _state(config_path: Path | None) -> tuple[StateFiles, str]:
    """The state folder of the config, and how to name it in messages (a folder given as
    ``${VAR}`` is named by its reference, as every config message does)."""
    from aicmo_gateway.config.load import GatewayConfig, load_config
    from aicmo_gateway.errors import ConfigError
    from aicmo_gateway.state.files import StateFiles

    path = find_config(config_path)
    if path is None:
        raise click.ClickException(
            f"no configuration file: pass --config, set {ENV_CONFIG}, or create "
            "./aicmo-gateway.toml"
        )
    try:
        config: GatewayConfig = load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if config.state_dir is None:
        raise click.ClickException(
            f"{path} sets no [gateway] state_dir, so gateways record no state to show; "
            'add state_dir = ".aicmo-gateway" under [gateway]'
        )
    reference = config.references.get("state_dir")
    return StateFiles(config.state_dir, keep=config.audit_size), reference or str(config.state_dir)


def _latency(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(config_path: Path | None, as_json: bool) -> None:
    """Each provider's health, breaker state, cooldown, failure rate and latency.

    Shows what the last gateway using this config recorded in its [gateway] state_dir.
    """
    state, where = _state(config_path)
    data = state.read_health()
    if data is None:
        raise click.ClickException(
            f"nothing recorded yet in {where}: run a gateway with this config first"
        )
    if as_json:
        emit_json(data)
        return
    rows = []
    for p in data["providers"]:
        until = p["open_until"] or p["cooldown_until"] or "-"
        rows.append(
            [
                p["capability"],
                p["provider"],
                p["type"],
                p["health"],
                p["state"] + (" (demoted)" if p.get("demoted") else ""),
                until,
                f"{p['failure_rate']:.0%} of {p['calls']}",
                _latency(p["ewma_latency"]),
                p["reason"] or "",
            ]
        )
    click.echo(
        table(
            [
                "capability",
                "provider",
                "type",
                "health",
                "breaker",
                "until",
                "failures",
                "latency",
                "reason",
            ],
            rows,
        )
    )
    click.echo(
        f"\nrecorded {data['written_at']} by process {data['pid']} in {where}; "
        f"shown as of {data['as_of']}"
    )


@click.command()
@click.argument("call_id")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the call record as JSON.")
def explain(call_id: str, config_path: Path | None, as_json: bool) -> None:
    """Print one call's decisions: each provider tried or skipped, and why.

    CALL_ID is an Outcome's call_id; the call must be among the last [gateway]
    audit_size calls recorded in the state_dir.
    """
    from aicmo_gateway.state.audit import explain as explain_record
    from aicmo_gateway.state.files import record_to_json

    state, where = _state(config_path)
    record = state.find(call_id)
    if record is None:
        raise click.ClickException(
            f"call {call_id} is not in {where}/audit.jsonl (it keeps the last {state.keep} calls)"
        )
    if as_json:
        emit_json(record_to_json(record))
    else:
        click.echo(explain_record(record))
