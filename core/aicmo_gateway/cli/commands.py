"""``plugins``, ``providers``, ``config check`` and ``doctor``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import attrs
import click

from aicmo_gateway.cli._output import emit_json, table
from aicmo_gateway.config.load import ENV_CONFIG, find_config
from aicmo_gateway.errors import ConfigError
from aicmo_gateway.plugins.registry import ENV_DISABLE, PluginStatus, Registry
from aicmo_gateway.ports import PORTS

_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Config file (default: ${ENV_CONFIG}, then ./aicmo-gateway.toml).",
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed plugins: distribution, version, status and provider types.

    Exits 1 when a plugin is quarantined or has a warning (e.g. a misspelt hook), or a
    plugin switch names nothing installed.
    """
    registry = Registry.discover()
    if as_json:
        emit_json(
            {"plugins": [p.to_json() for p in registry.plugins], "problems": registry.problems}
        )
    else:
        rows = []
        for info in registry.plugins:
            types = "; ".join(
                f"{port}: {', '.join(names)}"
                for port, names in info.to_json()["provider_types"].items()
            )
            rows.append(
                [info.name, info.distribution, info.version, info.status.value, types or "-"]
            )
        click.echo(table(["plugin", "distribution", "version", "status", "provider types"], rows))
        for info in registry.plugins:
            if info.reason:
                click.echo(
                    f"\n{info.name} ({info.distribution}) is {info.status.value}: {info.reason}"
                )
            for warning in info.warnings:
                click.echo(f"\nwarning: {info.name} ({info.distribution}): {warning}")
        for problem in registry.problems:
            click.echo(f"\nwarning: {problem}")
    if registry.quarantined or registry.problems or any(p.warnings for p in registry.plugins):
        raise SystemExit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def providers(as_json: bool) -> None:
    """Show the capability matrix: every provider type, its port and its traits."""
    registry = Registry.discover()
    types = registry.provider_types()
    if as_json:
        emit_json(
            [
                {
                    "port": pt.port,
                    "name": pt.name,
                    "summary": pt.summary,
                    "plugin": pt.plugin,
                    "distribution": pt.distribution,
                    "version": pt.version,
                    "traits": pt.traits,
                }
                for pt in types
            ]
        )
        return
    rows = []
    for pt in types:
        t = pt.traits
        limits = [f"{q['limit']}/{q['period']}" for q in t["quotas"]]
        if t["rate_limit"]:
            limits.append(f"{t['rate_limit']['per_second']:g}/s")
        rows.append(
            [
                pt.port,
                pt.name,
                pt.distribution,
                t["idempotency"],
                t["batch_size"] or "-",
                ", ".join(limits) or "-",
                "yes" if t["has_check"] else "no",
                pt.summary,
            ]
        )
    click.echo(
        table(
            ["port", "type", "distribution", "idempotency", "batch", "limits", "check", "summary"],
            rows,
        )
    )
    missing = [port for port in PORTS if not registry.provider_types(port)]
    if missing:
        click.echo(f"\nno provider type installed for: {', '.join(missing)}")


@click.group("config")
def config_group() -> None:
    """Work with the configuration file."""


@config_group.command("check")
@_config_option
def config_check(config_path: Path | None) -> None:
    """Validate a config and print every problem at once (exit 1 if any)."""
    path = find_config(config_path)
    if path is None:
        click.echo(
            f"no configuration file: pass --config, set {ENV_CONFIG}, or create "
            "./aicmo-gateway.toml",
            err=True,
        )
        raise SystemExit(1)
    registry = Registry.discover()
    try:
        from aicmo_gateway.gateway import Gateway

        gateway = Gateway.from_config(path, registry=registry)
    except ConfigError as exc:
        click.echo(str(exc))
        raise SystemExit(1) from None
    config = gateway.config
    asyncio.run(gateway.aclose())
    for warning in config.warnings:
        click.echo(f"warning: {warning}")
    click.echo(
        f"{path}: ok ({len(config.capabilities)} capabilities, "
        f"{len(config.providers)} provider instances)"
    )


@attrs.frozen
class _Finding:
    area: str
    item: str
    ok: bool
    detail: str
    fix: str = ""


def _plugin_findings(registry: Registry) -> list[_Finding]:
    found = []
    for info in registry.plugins:
        label = f"{info.name} ({info.distribution} {info.version})"
        if info.status is PluginStatus.QUARANTINED:
            found.append(
                _Finding(
                    "plugin",
                    label,
                    False,
                    info.reason or "",
                    f"pip install -U {info.distribution}, or set {ENV_DISABLE}={info.distribution}",
                )
            )
        elif info.status is PluginStatus.DISABLED:
            found.append(_Finding("plugin", label, True, f"disabled: {info.reason}"))
        else:
            found.append(
                _Finding(
                    "plugin", label, True, f"active, {len(info.provider_types)} provider types"
                )
            )
        for warning in info.warnings:
            found.append(
                _Finding(
                    "plugin",
                    label,
                    False,
                    warning,
                    "rename the hook function to a documented hook name",
                )
            )
    for problem in registry.problems:
        found.append(
            _Finding(
                "plugin",
                "switches",
                False,
                problem,
                "correct the distribution name in the variable",
            )
        )
    return found


def _config_findings(
    registry: Registry, path: Path | None, live: bool, timeout: float
) -> list[_Finding]:
    if path is None:
        return [
            _Finding(
                "config", "-", True, f"no configuration file (pass --config or set {ENV_CONFIG})"
            )
        ]
    from aicmo_gateway.gateway import Gateway

    try:
        gateway = Gateway.from_config(path, registry=registry)
    except ConfigError as exc:
        return [
            _Finding("config", p.key or str(path), False, p.message, p.fix) for p in exc.problems
        ]
    found = [
        _Finding(
            "config", str(path), True, f"{len(gateway.config.capabilities)} capabilities configured"
        )
    ]
    found += [_Finding("config", str(path), True, f"warning: {w}") for w in gateway.config.warnings]
    if live:

        async def run() -> list[Any]:
            try:
                return await gateway.check(timeout)
            finally:
                await gateway.aclose()

        for result in asyncio.run(run()):
            found.append(
                _Finding(
                    "live",
                    f"{result.capability}/{result.provider} ({result.provider_type})",
                    result.ok,
                    f"{result.detail} ({result.duration * 1000:.0f} ms)",
                    ""
                    if result.ok
                    else f"check [providers.{result.provider}] settings, "
                    "credentials and network reachability",
                )
            )
    else:
        asyncio.run(gateway.aclose())
    return found


@click.command()
@_config_option
@click.option("--live", is_flag=True, help="Also run each configured provider's live check().")
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds each live check may take.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def doctor(config_path: Path | None, live: bool, timeout: float, as_json: bool) -> None:
    """Self-check: plugins, configuration and, with --live, every provider's check().

    Live checks run concurrently; one failing or hanging check never hides the others.
    Exits 1 when a problem is found.
    """
    registry = Registry.discover()
    path = find_config(config_path)
    findings = _plugin_findings(registry) + _config_findings(registry, path, live, timeout)
    if as_json:
        emit_json([attrs.asdict(f) for f in findings])
    else:
        click.echo(
            table(
                ["area", "item", "status", "detail", "fix"],
                [
                    [f.area, f.item, "ok" if f.ok else "PROBLEM", f.detail, f.fix or ""]
                    for f in findings
                ],
            )
        )
        problems = sum(not f.ok for f in findings)
        click.echo(f"\n{problems} problem(s) found" if problems else "\nno problems found")
    if any(not f.ok for f in findings):
        raise SystemExit(1)
