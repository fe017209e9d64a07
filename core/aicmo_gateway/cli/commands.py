"""``config check`` and ``doctor`` (``plugins`` and ``providers`` are in ``listing``).

The registry, the gateway and asyncio are imported inside the commands that use them.
"""

from __future__ import annotations

from pathlib import Path

import click

from aicmo_gateway.cli._options import config_option
from aicmo_gateway.cli._output import emit_json, table
from aicmo_gateway.config.location import ENV_CONFIG, find_config


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
