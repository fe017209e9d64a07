"""Where the configuration file is.

``--config``, then ``$AICMO_GATEWAY_CONFIG``, then ``./aicmo-gateway.toml``. Kept apart from
loading so that the command line can name them cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CONFIG_FILENAME", "ENV_CONFIG", "find_config"]

CONFIG_FILENAME = "aicmo-gateway.toml"
ENV_CONFIG = "AICMO_GATEWAY_CONFIG"


def find_config(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to use.

    ``explicit`` first, then ``$AICMO_GATEWAY_CONFIG``, then ``./aicmo-gateway.toml``.
    """
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    local = Path.cwd() / CONFIG_FILENAME
    return local if local.exists() else None
