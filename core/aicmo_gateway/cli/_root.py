"""The ``aicmo-gateway`` click group: its options and its lazily imported commands.

Each command's module is imported when the command is looked up (click's lazy group: to run
it, or to list it in ``--help``), and imports what it runs when it runs, so ``--help`` starts
fast. ``main`` (in the package's ``__init__``) runs it.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from aicmo_gateway.plugins.switches import CORE_DISTRIBUTION

__all__ = ["COMMANDS", "LazyGroup", "cli", "run"]

#: each command's home, imported when the command is looked up
COMMANDS = {
    "plugins": "aicmo_gateway.cli.listing:plugins",
    "providers": "aicmo_gateway.cli.listing:providers",
    "config": "aicmo_gateway.cli.commands:config_group",
    "doctor": "aicmo_gateway.cli.commands:doctor",
    "status": "aicmo_gateway.cli.observe:status",
    "explain": "aicmo_gateway.cli.observe:explain",
    "demo": "aicmo_gateway.cli.demo:demo",
    "outbox": "aicmo_gateway.cli.outbox:outbox_group",
    "pipeline": "aicmo_gateway.cli.pipeline:pipeline",
    "suppression": "aicmo_gateway.cli.suppression:suppression",
    "unsubscribe": "aicmo_gateway.cli.suppression:unsubscribe",
    "new-plugin": "aicmo_gateway.cli.new_plugin:new_plugin",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first look-up (click's documented pattern).

    A command added with ``add_command`` (or put in ``commands``) wins over the lazy one of
    the same name.
    """

    def __init__(self, *args: Any, lazy_commands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            module, _, name = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command), self.lazy_commands[cmd_name]
            self.add_command(command, cmd_name)
        return command


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


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    from aicmo_gateway.cli._logging import configure_logging, restore_logging, verbosity

    configure_logging(verbosity(verbose))
    click.get_current_context().call_on_close(restore_logging)


def run() -> None:
    """Run the command line on ``sys.argv`` (``main`` handles a strict plugin error)."""
    cli(prog_name="aicmo-gateway")
