"""``status`` and ``explain``: what running gateways recorded in their state folder, or
(``status`` with a shared ``[gateway] store``) what the fleet's store holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aicmo_gateway.cli._options import config_option, load_option_config
from aicmo_gateway.cli._output import emit_json, table

if TYPE_CHECKING:
    from aicmo_gateway.config.load import GatewayConfig
    from aicmo_gateway.state.files import StateFiles


def _state(
    config_path: Path | None, loaded: tuple[Path, GatewayConfig] | None = None
) -> tuple[StateFiles, str]:
    """The state folder of the config, and how to name it in messages (a folder given as
    ``${VAR}`` is named by its reference, as every config message does)."""
    from aicmo_gateway.state.files import StateFiles

    path, config = loaded or load_option_config(config_path)
    if config.state_dir is None:
        raise click.ClickException(
            f"{path} sets no [gateway] state_dir, so gateways record no state to show; "
            'add state_dir = ".aicmo-gateway" under [gateway]'
        )
    state = StateFiles(
        config.state_dir, keep=config.audit_size, shown=config.references.get("state_dir")
    )
    return state, state.shown


def _unreadable(where: str, name: str, why: object) -> click.ClickException:
    return click.ClickException(
        f"cannot read {where}/{name}: {why}; check the folder's permissions, or delete the "
        "file if it is damaged (gateways write it again)"
    )


def _latency(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(config_path: Path | None, as_json: bool) -> None:
    """Each provider's health, breaker state, cooldown, failure rate and latency.

    With a shared [gateway] store (sqlite or redis), shows each provider as the fleet sees
    it, read from the store. Otherwise shows what the last gateway using this config
    recorded in its [gateway] state_dir.
    """
    loaded = load_option_config(config_path)
    if loaded[1].store != "memory":
        try:
            _fleet_status(loaded[1], as_json)
            return
        except _Unreachable as exc:
            if loaded[1].state_dir is None:
                raise click.ClickException(str(exc)) from None
            click.echo(f"{exc}; showing what gateways recorded in the state_dir", err=True)
    from aicmo_gateway.state.files import UnreadableState

    state, where = _state(config_path, loaded)
    try:
        data = state.read_health()
    except UnreadableState as exc:
        raise _unreadable(where, "health.json", exc) from None
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
    store = data.get("store")
    if store and not store.get("reachable", True):
        click.echo(
            f"shared store {store['store']} unreachable since {store['unreachable_since']} "
            f"({store['error']}): that process runs on its own state"
        )


def _wall(epoch: float | None) -> str:
    from datetime import UTC, datetime

    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def _quota_text(used: dict[str, int], limits: dict[str, int]) -> str:
    """``12 of 500 this day`` for each period with a count or a limit; ``-`` for none."""
    parts = []
    for period in dict.fromkeys([*limits, *used]):
        count = used.get(period, 0)
        limit = limits.get(period)
        parts.append(f"{count}{'' if limit is None else f' of {limit}'} this {period}")
    return ", ".join(parts) or "-"


class _Unreachable(Exception):
    """The shared store did not answer."""


def _fleet_status(config: GatewayConfig, as_json: bool) -> None:
    """Every configured provider as the shared store holds it."""
    import asyncio

    from aicmo_gateway.state.store import open_shared

    names = list(dict.fromkeys(n for cap in config.capabilities.values() for n in cap.providers))

    async def read() -> dict[str, object]:
        try:
            store = open_shared(config.store, config.name, config.base_dir)
        except Exception as exc:
            raise click.ClickException(
                f"cannot open the store {config.store_shown}: {type(exc).__name__}: {exc}"
            ) from None
        assert store is not None
        try:
            return dict(await store.facts(names))
        except Exception as exc:
            raise _Unreachable(
                f"the shared store {config.store_shown} is unreachable "
                f"({type(exc).__name__}: {exc}); running gateways go on with their own "
                "state until it is back"
            ) from None
        finally:
            await store.aclose()

    facts = asyncio.run(read())
    rows = []
    for capability, cap in config.capabilities.items():
        for name in cap.providers:
            inst = config.providers[name]
            row: dict[str, Any] = {"capability": capability, "type": inst.type}
            row.update(facts[name].to_json())  # type: ignore[attr-defined]
            # the limits the file sets (a provider's own presets are known once it is built)
            row["quota_limits"] = {q.period: q.limit for q in inst.policy.quotas}
            for key in ("open_until", "cooldown_until"):
                row[key] = None if row[key] is None else _wall(row[key])
            rows.append(row)
    if as_json:
        emit_json({"store": config.store_shown, "name": config.name, "providers": rows})
        return
    click.echo(
        table(
            [
                "capability",
                "provider",
                "type",
                "fleet",
                "until",
                "failures in a row",
                "quota used",
                "reason",
            ],
            [
                [
                    r["capability"],
                    r["provider"],
                    r["type"],
                    r["state"],
                    r["cooldown_until"] or r["open_until"] or "-",
                    r["consecutive_failures"],
                    _quota_text(r["quota_used"], r["quota_limits"]),
                    r["reason"] or "",
                ]
                for r in rows
            ],
        )
    )
    click.echo(f"\nas the fleet {config.name!r} sees it, from {config.store_shown}")


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
    from aicmo_gateway.state.files import UnreadableState, record_from_json

    state, where = _state(config_path)
    try:
        data = state.find_json(call_id)
    except UnreadableState as exc:
        raise _unreadable(where, "audit.jsonl", exc) from None
    if data is None:
        raise click.ClickException(
            f"call {call_id} is not in {where}/audit.jsonl (it keeps the last {state.keep} calls)"
        )
    if as_json:
        emit_json(data)  # as recorded: the value is already a summary
    else:
        click.echo(explain_record(record_from_json(data)))
