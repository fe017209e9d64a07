"""The shared ``--config`` option of the command line, and the config it names, loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from aicmo_gateway.config.location import ENV_CONFIG, find_config

if TYPE_CHECKING:
    from aicmo_gateway.config.load import GatewayConfig

__all__ = ["config_option", "load_option_config"]

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Config file (default: ${ENV_CONFIG}, then ./aicmo-gateway.toml).",
)


def load_option_config(config_path: Path | None) -> tuple[Path, GatewayConfig]:
    """The config file ``--config`` names (or the default one) and its config, loaded; a
    ``ClickException`` saying what to do when there is none or it has problems."""
    from aicmo_gateway.config.load import load_config
    from aicmo_gateway.errors import ConfigError

    path = find_config(config_path)
    if path is None:
        raise click.ClickException(
            f"no configuration file: pass --config, set {ENV_CONFIG}, or create "
            "./aicmo-gateway.toml"
        )
    try:
        return path, load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
