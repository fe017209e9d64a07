"""``plugins`` and ``providers``: what is installed.

Kept apart from the other commands so that ``aicmo-gateway plugins`` imports the registry
and the plugins, and nothing else (not even ``pathlib``); the registry is imported inside the
commands. ``plugins`` is written in ``_listing``, without click, which ``main`` runs directly
for ``aicmo-gateway plugins [--json]``.
"""

from __future__ import annotations

import click

from aicmo_gateway.cli._output import emit_json, table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed plugins: distribution, version, status and provider types.

    Exits 1 when a plugin is quarantined or has a warning (e.g. a misspelt hook), or a
    plugin switch names nothing installed.
    """
    from aicmo_gateway.cli._listing import plugins_report

    code = plugins_report(as_json, click.echo)
    if code:
        raise SystemExit(code)


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
