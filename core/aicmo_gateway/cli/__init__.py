"""The ``aicmo-gateway`` command line.

Each command imports what it runs when it runs, so ``--help`` and ``plugins`` start fast.

Exit codes: 0 when all is well, 1 when problems were found, 2 for a usage error.
"""

from __future__ import annotations

import os

import click

from aicmo_gateway.cli.commands import config_group, doctor, plugins, providers
from aicmo_gateway.cli.demo import demo
from aicmo_gateway.cli.new_plugin import new_plugin
from aicmo_gateway.cli.observe import explain, status
from aicmo_gateway.cli.outbox import outbox_group
from aicmo_gateway.cli.pipeline import pipeline
from aicmo_gateway.cli.suppression import suppression, unsubscribe
from aicmo_gateway.errors import PluginError
from aicmo_gateway.plugins.switches import CORE_DISTRIBUTION, ENV_STRICT, ENV_TRACE

__all__ = ["main"]


def _print_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from aicmo_gateway.plugins.registry import Registry, core_version

    click.echo(f"{CORE_DISTRIBUTION} {core_version()}")
    registry = Registry.discover()
    for info in registry.plugins:
        if not info.builtin:
            click.echo(f"  {info.distribution} {info.version} ({info.status.value})")
    ctx.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the core's and every plugin's version.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log more to standard error: -v adds each call's steps (INFO), -vv everything "
    "(DEBUG). Warnings are shown without it.",
)
def cli(verbose: int) -> None:
    """aicmo-gateway: one API for email, replies, CRM, enrichment, verification,
    social posting and webhooks, each served by a failover chain of plugins.

    Configuration comes from --config, $AICMO_GATEWAY_CONFIG or ./aicmo-gateway.toml.
    """
    from aicmo_gateway.cli._logging import configure_logging, restore_logging
    from aicmo_gateway.config_values import truth_word

    tracing = truth_word(os.environ.get(ENV_TRACE, "")) is True
    configure_logging(2 if tracing else verbose)
    click.get_current_context().call_on_close(restore_logging)


cli.add_command(plugins)
cli.add_command(providers)
cli.add_command(config_group)
cli.add_command(doctor)
cli.add_command(status)
cli.add_command(explain)
cli.add_command(demo)
cli.add_command(outbox_group)
cli.add_command(pipeline)
cli.add_command(suppression)
cli.add_command(unsubscribe)
cli.add_command(new_plugin)


def main() -> None:
    try:
        cli(prog_name="aicmo-gateway")
    except PluginError as exc:  # AICMO_GATEWAY_STRICT_PLUGINS=1 turned a quarantine into this
        click.echo(f"error: {exc}", err=True)
        click.echo(
            f"unset {ENV_STRICT} to quarantine the plugin and carry on, or fix or uninstall it",
            err=True,
        )
        raise SystemExit(1) from None
