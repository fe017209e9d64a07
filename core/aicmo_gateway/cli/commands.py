"""``plugins``, ``providers``, ``config check`` and ``doctor``.

The registry, the gateway and asyncio are imported inside the commands that use them.
"""

from __future__ import annotations

from pathlib import Path

import click

from aicmo_gateway.cli._output import config_option, emit_json, table
from aicmo_gateway.config.location import ENV_CONFIG, find_config


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed plugins: distribution, version, status and provider types.

    Exits 1 when a plugin is quarantined or has a warning (e.g. a misspelt hook), or a
    plugin switch names nothing installed.
    """
    from aicmo_gateway.plugins.registry import Registry

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
    from aicmo_gateway.plugins.registry import Registry
    from aicmo_gateway.ports import PORTS

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
@config_option
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
    import asyncio

    from aicmo_gateway.errors import ConfigError
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.plugins.registry import Registry

    registry = Registry.discover()
    try:
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


@click.command()
@config_option
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
    import attrs

    from aicmo_gateway.cli._doctor import config_findings, plugin_findings
    from aicmo_gateway.plugins.registry import Registry

    registry = Registry.discover()
    path = find_config(config_path)
    findings = plugin_findings(registry) + config_findings(registry, path, live, timeout)
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
