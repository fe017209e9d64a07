"""The shared ``--config`` option of the command line."""

from __future__ import annotations

from pathlib import Path

import click

from aicmo_gateway.config.location import ENV_CONFIG

__all__ = ["config_option"]

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Config file (default: ${ENV_CONFIG}, then ./aicmo-gateway.toml).",
)
