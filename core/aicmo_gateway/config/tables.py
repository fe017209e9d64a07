"""Reading the tables of a config: every problem collected, each with the key and the fix.

The top-level tables, ``[providers.<name>]`` and ``[capabilities.<name>]`` are read here; the
other tables have a module each (``gateway_table``, ``email``, ``pipeline``, ``outbox``), and
``${ENV_VAR}`` references are resolved by :mod:`aicmo_gateway.config.references`. Used by
:func:`aicmo_gateway.config.load_config`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.config.email import read_email
from aicmo_gateway.config.gateway_table import AUDIT_SIZE, read_gateway
from aicmo_gateway.config.load import (
    CapabilityConfig,
    GatewayConfig,
    ProviderConfig,
)
from aicmo_gateway.config.outbox import check_defer
from aicmo_gateway.config.pipeline import read_pipeline
from aicmo_gateway.config.references import resolve
from aicmo_gateway.config.settings import check_settings
from aicmo_gateway.config.timeouts import timeout_warnings
from aicmo_gateway.config_values import key_part, shown, too_deep
from aicmo_gateway.engine.policy import CAPABILITY_KEYS, parse_chain_policy
from aicmo_gateway.engine.provider_policy import PROVIDER_POLICY_KEYS, parse_provider_policy
from aicmo_gateway.errors import ConfigError, ConfigProblem
from aicmo_gateway.ports import PORTS, Effect

if TYPE_CHECKING:
    from aicmo_gateway.plugins.registry import Registry

__all__ = ["AUDIT_SIZE", "ConfigLoader"]

_INSTANCE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


class ConfigLoader:
    def __init__(
        self,
        source: str,
        env: Mapping[str, str],
        registry: Registry | None,
        base: Path | None = None,
    ) -> None:
        self.source = source
        #: relative paths in [gateway] are relative to this folder (the config file's)
        self.base = base
        self.env = env
        self.registry = registry
        self.problems: list[ConfigProblem] = []
        self.warnings: list[str] = []
        #: keys of [gateway] whose value came from the environment: the text as written
        self.references: dict[str, str] = {}
        #: keys whose ``${...}`` could not be resolved (already reported)
        self.unresolved: set[str] = set()
        #: provider instance -> capability -> (settings class, its settings converted)
        self.checked: dict[str, dict[str, tuple[type | None, dict[str, Any]]]] = {}

    def problem(self, key: str, message: str, fix: str = "") -> None:
        self.problems.append(ConfigProblem(self.source, key, message, fix))

    def unknown_keys(
        self, table: Mapping[str, Any], allowed: Collection[str], where: str, what: str, listed: str
    ) -> None:
        """A problem for each key of the table ``where`` that is not in ``allowed``: "is not
        ``what``", with the closest allowed key suggested and every one ``listed``."""
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), list(allowed), n=1)
                self.problem(
                    f"{where}.{key_part(key)}",
                    f"is not {what}",
                    (f"did you mean {close[0]!r}? " if close else "")
                    + f"{listed}: {', '.join(allowed)}",
                )

    def text(self, table: Mapping[str, Any], where: str, key: str, example: str) -> str | None:
        """``table[key]`` (in the table ``where``) as text, references resolved; ``None``
        when absent, or when it is not text (a problem suggesting ``example``)."""
        value, _ = self.resolve(table.get(key), f"{where}.{key}")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{where}.{key}", f"expected text, got {shown(value)}", f"write {example}")
            return None
        return str(value)

    # -- ${ENV} references (see aicmo_gateway.config.references) -------------------

    def resolve(self, value: Any, key: str, *, tables: bool = False) -> tuple[Any, bool]:
        """Resolve references in strings, also in lists and tables; return (value, used_env).

        See :func:`aicmo_gateway.config.references.resolve`.
        """
        return resolve(self, value, key, tables=tables)

    # -- tables ---------------------------------------------------------------

    def load(self, data: Mapping[str, Any]) -> GatewayConfig:
        deep = too_deep(data)
        if deep is not None:
            self.problem(*deep)
            raise ConfigError(self.problems)
        allowed = ("gateway", "capabilities", "providers", "email", "pipeline")
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                self.problem(
                    key_part(key),
                    "is not a known table",
                    (f"did you mean [{close[0]}]? " if close else "")
                    + "the tables are [gateway], [capabilities.<name>], [providers.<name>], "
                    + "[email] and [pipeline]",
                )
        gateway = self.table(data, "gateway")
        gateway_values = read_gateway(self, gateway)
        email = read_email(self, self.table(data, "email"), self.base)
        pipeline = read_pipeline(self, self.table(data, "pipeline"), self.base)
        providers = self.providers(self.table(data, "providers"))
        capabilities = self.capabilities(self.table(data, "capabilities"), providers)
        check_defer(self, capabilities, gateway_values["outbox"] is not None)
        used = {p for cap in capabilities.values() for p in cap.providers}
        for name in providers:
            if name not in used:
                self.warnings.append(
                    f"{self.source}: providers.{name} is defined but no capability uses it"
                )
        if self.problems:
            raise ConfigError(self.problems)
        if self.registry is not None:
            types = {name: inst.type for name, inst in providers.items()}
            self.warnings += timeout_warnings(
                self.source, capabilities, types, self.checked, self.registry
            )
        providers = {
            name: attrs.evolve(inst, checked=self.checked[name]) if name in self.checked else inst
            for name, inst in providers.items()
        }
        return GatewayConfig(
            self.source,
            capabilities,
            providers,
            warnings=tuple(self.warnings),
            base_dir=self.base,
            references=dict(self.references),
            email=email,
            pipeline=pipeline,
            **gateway_values,
        )

    def table(self, data: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            self.problem(
                f"{prefix}{key}",
                f"must be a table, got {shown(value)}",
                f"write it as [{prefix}{key}] followed by key = value lines",
            )
            return {}
        return value

    def providers(self, table: Mapping[str, Any]) -> dict[str, ProviderConfig]:
        result: dict[str, ProviderConfig] = {}
        for name, body in table.items():
            key = f"providers.{name}"
            if not isinstance(name, str) or not _INSTANCE.match(name):
                key = f"providers.{key_part(name)}"
                self.problem(
                    key,
                    f"{shown(name)} is not a valid provider instance name",
                    "use letters, digits, '_' or '-', starting with a letter",
                )
                continue
            if not isinstance(body, Mapping):
                self.problem(
                    key,
                    f"must be a table, got {shown(body)}",
                    f'write [providers.{name}] with a type = "..." line',
                )
                continue
            ptype = body.get("type")
            if not isinstance(ptype, str) or not ptype:
                installed = self.all_type_names()
                self.problem(
                    f"{key}.type",
                    "is missing" if ptype is None else f"must be a string, got {shown(ptype)}",
                    'add type = "<provider type>"'
                    + (f"; installed types: {installed}" if installed else ""),
                )
                continue
            settings: dict[str, Any] = {}
            reserved: dict[str, Any] = {}
            from_env = set()
            for skey, svalue in body.items():
                if skey == "type":
                    continue
                known = len(self.problems)
                setting = skey not in PROVIDER_POLICY_KEYS  # policy tables are not resolved
                resolved, used_env = self.resolve(svalue, f"{key}.{key_part(skey)}", tables=setting)
                if len(self.problems) > known:  # the reference is the problem: no other
                    self.unresolved.add(f"{key}.{key_part(skey)}")
                if used_env:
                    from_env.add(skey)
                (reserved if skey in PROVIDER_POLICY_KEYS else settings)[skey] = resolved
            policy, problems = parse_provider_policy(reserved, None, ())
            for suffix, message, fix in problems:
                self.problem(f"{key}.{suffix}", message, fix)
            result[name] = ProviderConfig(
                name, ptype, settings, frozenset(from_env), reserved, policy=policy
            )
        return result

    def all_type_names(self) -> str:
        if self.registry is None:
            return ""
        return ", ".join(sorted({pt.name for pt in self.registry.provider_types()}))

    def capabilities(
        self, table: Mapping[str, Any], providers: Mapping[str, ProviderConfig]
    ) -> dict[str, CapabilityConfig]:
        result: dict[str, CapabilityConfig] = {}
        for cap, body in table.items():
            key = f"capabilities.{key_part(cap)}"
            if cap not in PORTS:
                close = difflib.get_close_matches(cap, list(PORTS), n=1)
                self.problem(
                    key,
                    f"{shown(cap)} is not a capability",
                    (f"did you mean {close[0]!r}? " if close else "")
                    + f"capabilities are: {', '.join(PORTS)}",
                )
                continue
            if not isinstance(body, Mapping):
                self.problem(
                    key,
                    f"must be a table, got {shown(body)}",
                    f'write [capabilities.{cap}] with providers = ["..."]',
                )
                continue
            self.unknown_keys(body, CAPABILITY_KEYS, key, "a capability setting", "the keys are")
            names = self.provider_list(body, key, cap, providers)
            read_only = all(op.effect is Effect.READ for op in PORTS[cap].operations)
            policy, problems = parse_chain_policy(body, read_only)
            for suffix, message, fix in problems:
                self.problem(f"{key}.{suffix}", message, fix)
            result[cap] = CapabilityConfig(cap, tuple(names), policy)
        return result

    def provider_list(
        self, body: Mapping[str, Any], key: str, cap: str, providers: Mapping[str, ProviderConfig]
    ) -> list[str]:
        raw = body.get("providers")
        if raw is None or raw == []:
            self.problem(
                f"{key}.providers",
                "is missing or empty" if raw is None else "is empty",
                f"list the provider instances to use in order, e.g. providers = "
                f'["{next(iter(providers), "primary")}"]',
            )
            return []
        if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
            self.problem(
                f"{key}.providers",
                f"must be a list of names, got {shown(raw)}",
                'write providers = ["first", "second"]',
            )
            return []
        names: list[str] = []
        for i, name in enumerate(raw):
            if name in names:
                self.problem(
                    f"{key}.providers[{i}]",
                    f"{shown(name)} is listed twice",
                    "list each provider instance once",
                )
                continue
            names.append(name)
            inst = providers.get(name)
            if inst is None:
                close = difflib.get_close_matches(name, list(providers), n=1)
                self.problem(
                    f"{key}.providers[{i}]",
                    f"{shown(name)} is not defined",
                    (f"did you mean {close[0]!r}? " if close else "")
                    + f"add a [providers.{key_part(name)}] table with its type",
                )
                continue
            self.check_instance(inst, cap)
        return names

    def check_instance(self, inst: ProviderConfig, cap: str) -> None:
        if self.registry is None:
            return
        pkey = f"providers.{inst.name}"
        try:
            pt = self.registry.get(cap, inst.type)
        except LookupError:
            self.problem(
                f"{pkey}.type",
                self.registry.explain_unknown(cap, inst.type),
                f"set type to one of the installed {cap} types, or install the "
                "plugin that provides it",
            )
            return
        settings, problems = check_settings(
            pt.settings,
            dict(inst.settings),
            base=self.base,
            source=self.source,
            table=pkey,
            note=f" (type {inst.type!r})",
        )
        self.problems += [p for p in problems if p.key not in self.unresolved]
        if not problems:  # carried to the build, which does not check them again
            self.checked.setdefault(inst.name, {})[cap] = (pt.settings, settings)
