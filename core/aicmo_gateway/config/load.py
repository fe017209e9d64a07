"""The validated configuration records, finding the config file, and loading it.

Every problem is collected before anything is raised, so ``config check``
shows them all at once. Each names the file, the table and key, the bad value
(never a secret's) and the fix. The tables are read by
:mod:`aicmo_gateway.config.tables`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.config.settings import is_secret_key
from aicmo_gateway.engine.policy import (
    ChainPolicy,
    parse_duration,
)
from aicmo_gateway.errors import ConfigError, ConfigProblem
from aicmo_gateway.secret import Secret

if TYPE_CHECKING:
    from aicmo_gateway.config.tables import ConfigLoader
    from aicmo_gateway.plugins.registry import Registry

__all__ = [
    "CONFIG_FILENAME",
    "ENV_CONFIG",
    "CapabilityConfig",
    "GatewayConfig",
    "ProviderConfig",
    "find_config",
    "load_config",
    "parse_duration",
]

CONFIG_FILENAME = "aicmo-gateway.toml"
ENV_CONFIG = "AICMO_GATEWAY_CONFIG"
GATEWAY_KEYS = {"store": "memory", "dry_run": False, "audit_size": 1000, "state_dir": None}


@attrs.frozen
class ProviderConfig:
    """One ``[providers.<name>]`` table, references resolved."""

    name: str
    type: str
    #: settings as written, ``${...}`` resolved
    settings: Mapping[str, Any] = attrs.field(repr=False)
    #: keys whose value came from an environment variable (never shown)
    from_env: frozenset[str] = frozenset()
    #: the gateway's own keys (daily_quota, quotas, rate_limit, health, on_error)
    reserved: Mapping[str, Any] = attrs.field(factory=dict)

    def display_settings(self) -> dict[str, Any]:
        """The settings with secrets and environment values masked, for showing to people."""
        return {
            key: "********"
            if key in self.from_env or is_secret_key(key) or isinstance(value, Secret)
            else value
            for key, value in self.settings.items()
        }


@attrs.frozen
class CapabilityConfig:
    """One ``[capabilities.<name>]`` table."""

    name: str
    providers: tuple[str, ...]
    policy: ChainPolicy = attrs.field(factory=ChainPolicy)

    @property
    def strategy(self) -> str:
        return self.policy.strategy

    @property
    def deadline(self) -> float | None:
        return self.policy.deadline

    @property
    def attempt_timeout(self) -> float | None:
        return self.policy.attempt_timeout


@attrs.frozen
class GatewayConfig:
    """A validated configuration."""

    source: str
    capabilities: Mapping[str, CapabilityConfig]
    providers: Mapping[str, ProviderConfig]
    store: str = "memory"
    dry_run: bool = False
    #: how many recent calls the in-memory audit trail keeps
    audit_size: int = 1000
    #: where the audit trail and health are written for the CLI (None: nowhere)
    state_dir: Path | None = None
    #: the config file's folder: relative paths in settings are relative to it
    base_dir: Path | None = None
    #: things worth knowing that are not errors (an unused provider table)
    warnings: tuple[str, ...] = ()


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


def _loader() -> type[ConfigLoader]:
    from aicmo_gateway.config.tables import ConfigLoader

    return ConfigLoader


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> GatewayConfig:
    """Load and validate a config file path or mapping.

    Raises :class:`ConfigError` listing every problem found. With a ``registry``,
    provider types and their settings are checked too.
    """
    env = os.environ if env is None else env
    if isinstance(source, Mapping):
        return _loader()("<mapping>", env, registry).load(source)
    path = Path(source)
    name = str(path)
    if not path.is_file():
        raise ConfigError(
            [
                ConfigProblem(
                    name,
                    "",
                    "the configuration file does not exist"
                    if not path.exists()
                    else "is not a file",
                    f"create it (see docs/configuration.md), or pass --config / set {ENV_CONFIG}",
                )
            ]
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    name,
                    "",
                    f"is not valid TOML: {exc}",
                    "fix the syntax at that line (strings need quotes, tables are [name])",
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            [ConfigProblem(name, "", "is not UTF-8 text", "save the file as UTF-8")]
        ) from None
    return _loader()(name, env, registry, path.resolve().parent).load(data)
