"""The validated configuration records, finding the config file, and loading it.

Every problem is collected before anything is raised, so ``config check``
shows them all at once. Each names the file, the table and key, the bad value
(never a secret's) and the fix. The tables are read by
:mod:`aicmo_gateway.config.tables`.
"""

from __future__ import annotations

import builtins
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.config.email import EmailSettings
from aicmo_gateway.config.location import CONFIG_FILENAME, ENV_CONFIG, find_config
from aicmo_gateway.config.pipeline import PipelineSettings
from aicmo_gateway.config.settings import is_secret_key
from aicmo_gateway.config_values import MAX_DEPTH, shown
from aicmo_gateway.engine.policy import ChainPolicy, parse_duration
from aicmo_gateway.engine.provider_policy import ProviderPolicy
from aicmo_gateway.errors import ConfigError, ConfigProblem
from aicmo_gateway.secret import Secret
from aicmo_gateway.state.outbox.backend import OutboxSettings, redact_url

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

GATEWAY_KEYS = {
    "name": "aicmo-gateway",
    "store": "memory",
    "dry_run": False,
    "audit_size": 1000,
    "state_dir": None,
    "outbox": None,
    "outbox_max_attempts": 10,
    "outbox_backoff": "30s",
    "outbox_backoff_max": "1h",
    "outbox_lease": "5m",
    "outbox_batch": 50,
}


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
    #: the reserved keys, checked once when the file is loaded (the type's limits not applied)
    policy: ProviderPolicy = attrs.field(factory=ProviderPolicy, kw_only=True)
    #: per capability: the settings class and the settings checked and converted against it
    #: when the file was loaded with a registry; the build uses them instead of checking again
    checked: Mapping[str, tuple[builtins.type | None, Mapping[str, Any]]] = attrs.field(
        factory=dict, repr=False, kw_only=True
    )

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


@attrs.frozen(repr=False)
class GatewayConfig:
    """A validated configuration. Its repr shows values from the environment as written."""

    source: str
    capabilities: Mapping[str, CapabilityConfig]
    providers: Mapping[str, ProviderConfig]
    store: str = "memory"
    dry_run: bool = False
    #: the application's name: namespaces its keys in a shared store
    name: str = "aicmo-gateway"
    #: how many recent calls the in-memory audit trail keeps
    audit_size: int = 1000
    #: where the audit trail and health are written for the CLI (None: nowhere)
    state_dir: Path | None = None
    #: the config file's folder: relative paths in settings are relative to it
    base_dir: Path | None = None
    #: where writes no provider performed are stored (None: nowhere, they end FAILED)
    outbox: OutboxSettings | None = None
    #: things worth knowing that are not errors (an unused provider table)
    warnings: tuple[str, ...] = ()
    #: [gateway] keys whose value came from ``${VAR}``: the text as written
    references: Mapping[str, str] = attrs.field(factory=dict)
    #: the [email] table: the suppression list and one-click unsubscribe
    email: EmailSettings = attrs.field(factory=EmailSettings)
    #: the [pipeline] table: how ``aicmo-gateway pipeline run`` treats leads
    pipeline: PipelineSettings = attrs.field(factory=PipelineSettings)

    def __repr__(self) -> str:
        state_dir = self.references.get("state_dir", self.state_dir)
        return (
            f"GatewayConfig(source={self.source!r}, capabilities={list(self.capabilities)}, "
            f"providers={list(self.providers)}, store={shown(self.store_shown)}, "
            f"dry_run={self.dry_run}, "
            f"audit_size={self.audit_size}, state_dir={shown(state_dir)}"
            + (f", outbox={shown(self.outbox_shown)}" if self.outbox else "")
            + ")"
        )

    @property
    def store_shown(self) -> str:
        """The store URL as written (``${VAR}``), or with its password masked."""
        return self.references.get("store") or redact_url(self.store)

    def secret_values(self) -> tuple[str, ...]:
        """The secret values of the gateway's own tables, for scrubbing what it records.

        The ``[email]`` unsubscribe secrets, the password of every store, outbox and
        suppression URL, and the whole of a ``[gateway]`` value that came from ``${VAR}``
        (``store``, ``state_dir``, ``outbox``). The providers' own secrets are their slots'.
        """
        found: list[str] = []
        email = self.email
        for secret in (email.unsubscribe_secret, *email.unsubscribe_old_secrets):
            if secret is not None:
                found.append(secret.reveal())
        urls = [self.store, self.outbox.url if self.outbox else None, email.suppression]
        for url in urls:
            if url:
                found += _url_passwords(url)
        given = {
            "store": self.store,
            "state_dir": None if self.state_dir is None else str(self.state_dir),
            "outbox": self.outbox.url if self.outbox else None,
        }
        found += [value for key, value in given.items() if value and key in self.references]
        return tuple(dict.fromkeys(v for v in found if len(v) >= 4))

    @property
    def outbox_shown(self) -> str | None:
        """The outbox URL as written (``${VAR}``), or with its password masked."""
        if self.outbox is None:
            return None
        return self.references.get("outbox") or redact_url(self.outbox.url)


def _url_passwords(url: str) -> list[str]:
    """The passwords a URL holds: its userinfo's, and a ``password=`` query parameter's."""
    from urllib.parse import parse_qs, unquote, urlsplit

    try:
        parts = urlsplit(url)
        found = [parts.password, unquote(parts.password)] if parts.password else []
        for key, values in parse_qs(parts.query).items():
            if is_secret_key(key):
                found += values
    except ValueError:
        return []
    return found


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
    if not isinstance(source, str | os.PathLike):
        raise ConfigError(
            [
                ConfigProblem(
                    "<config>",
                    "",
                    f"expected a file path or a mapping, got {shown(source)}",
                    "pass the path of a TOML file, or a dict shaped like one",
                )
            ]
        )
    path = Path(source)
    name = str(path)
    if "\x00" in name:
        raise ConfigError(
            [ConfigProblem(shown(name), "", "the file name contains a NUL character", "remove it")]
        )
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
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    name,
                    "",
                    f"could not be read: {exc.strerror or exc}",
                    "check the file's permissions, or pass another file with --config",
                )
            ]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [
                ConfigProblem(
                    name,
                    f"line {line}",
                    f"is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start})",
                    "save the file as UTF-8",
                )
            ]
        ) from None
    text = text.removeprefix("\ufeff")  # a byte order mark some editors write
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_problem(name, text, str(exc))]) from None
    except RecursionError:
        raise ConfigError([_nesting_problem(name, text)]) from None
    except ValueError:  # an integer too long to convert ("Exceeds the limit ...")
        raise ConfigError([_long_number_problem(name, text)]) from None
    return _loader()(name, env, registry, path.resolve().parent).load(data)


_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\-\"' ]+?)\s*=")
_HEADER = re.compile(r"^\s*\[+\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]+\s*(#.*)?$")


def _key_at(text: str, line: int) -> str:
    """The dotted key written on ``line`` (1-based), with the table it is in; "" if none.

    Only the key is taken from the line, never its value (which may be a secret).
    """
    lines = text.splitlines()
    table = ""
    for number, content in enumerate(lines[:line], start=1):
        header = _HEADER.match(content)
        if header and number < line:
            table = header.group(1).replace(" ", "")
        elif header:
            return header.group(1).replace(" ", "")
    match = _KEY.match(lines[line - 1]) if 0 < line <= len(lines) else None
    if match is None:
        return table
    key = match.group(1).strip()
    return f"{table}.{key}" if table else key


def _syntax_problem(name: str, text: str, detail: str) -> ConfigProblem:
    found = _AT_LINE.search(detail)
    line = int(found.group(1)) if found else 0
    key = _key_at(text, line) if line else ""
    where = f"line {line}" + (f" ({key})" if key else "") if line else ""
    return ConfigProblem(
        name,
        where,
        f"is not valid TOML: {detail}",
        "fix the syntax at that line (strings need quotes, tables are [name], each key once)",
    )


def _long_number_problem(name: str, text: str) -> ConfigProblem:
    """An integer with thousands of digits, which Python refuses to read: find where."""
    lines = text.splitlines()
    line = next((n for n, content in enumerate(lines, 1) if re.search(r"\d{4000}", content)), 0)
    key = _key_at(text, line) if line else ""
    return ConfigProblem(
        name,
        f"line {line}" + (f" ({key})" if key else "") if line else "",
        "holds a number with thousands of digits, too long to read",
        "write numbers with at most 19 digits",
    )


def _nesting_problem(name: str, text: str) -> ConfigProblem:
    """Arrays or inline tables nested too deeply for the TOML reader: find where."""
    depth, line_of_key, key = 0, 0, ""
    for number, content in enumerate(text.splitlines(), start=1):
        if depth == 0 and _KEY.match(content):
            line_of_key, key = number, _key_at(text, number)
        depth += sum(content.count(c) for c in "[{") - sum(content.count(c) for c in "]}")
        if depth > MAX_DEPTH:
            break
    where = f"line {line_of_key} ({key})" if key else ""
    return ConfigProblem(
        name,
        where,
        f"nests arrays or inline tables more than {MAX_DEPTH} levels deep",
        f"keep arrays and tables within {MAX_DEPTH} levels (a config needs about five)",
    )
