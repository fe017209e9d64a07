"""``aicmo-gateway new-plugin NAME --port PORT``: write a plugin distribution to start from."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["new_plugin"]

_PORTS = (
    "crm_sync",
    "email_sending",
    "email_verification",
    "lead_enrichment",
    "reply_fetching",
    "social_posting",
    "webhook_dispatch",
)


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--port", required=True, type=click.Choice(_PORTS), help="The port the provider serves."
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the distribution's folder (aicmo-gateway-NAME).",
)
def new_plugin(name: str, port: str, directory: Path) -> None:
    """Write the plugin distribution aicmo-gateway-NAME for PORT: a provider, a fake of its
    service, the port's conformance suite wired, a README and a noxfile. It passes its own
    tests as written."""
    from aicmo_gateway.errors import InvalidInput
    from aicmo_gateway.plugins.registry import core_version
    from aicmo_gateway.plugins.template import render_plugin

    try:
        folder = render_plugin(name, port, directory, core_version=core_version())
    except InvalidInput as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"wrote {folder}")
    click.echo(f"next: cd {folder} && pip install -e '.[test]' && pytest")
