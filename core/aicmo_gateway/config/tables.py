"""Reading the tables of a config: every problem collected, each with the key and the fix.

``${ENV_VAR}`` references are resolved here; ``${VAR:-default}`` gives a
default and ``$$`` writes a literal ``$``. Used by :func:`aicmo_gateway.config.load_config`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.config.email import read_email
from aicmo_gateway.config.load import (
    GATEWAY_KEYS,
    CapabilityConfig,
    GatewayConfig,
    ProviderConfig,
)
from aicmo_gateway.config.outbox import check_defer, read_outbox
from aicmo_gateway.config.pipeline import read_pipeline
from aicmo_gateway.config.settings import check_settings
from aicmo_gateway.config.timeouts import timeout_warnings
from aicmo_gateway.config_values import (
    BadValue,
    EnvText,
    Range,
    key_part,
    read_bool,
    read_number,
    shown,
    too_deep,
)
from aicmo_gateway.engine.policy import (
    CAPABILITY_KEYS,
    PROVIDER_POLICY_KEYS,
    parse_chain_policy,
    parse_provider_policy,
)
from aicmo_gateway.errors import ConfigError, ConfigProblem
from aicmo_gateway.ports import PORTS, Effect
from aicmo_gateway.state.outbox.backend import redact_url
from aicmo_gateway.state.store import NAME_PATTERN, check_store_url

if TYPE_CHECKING:
    from aicmo_gateway.plugins.registry import Registry

__all__ = ["ConfigLoader"]

_REF = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.S)
#: the allowed values of [gateway] audit_size
AUDIT_SIZE = Range(0, 1_000_000, whole=True)
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

    # -- ${ENV} references ----------------------------------------------------

    def resolve(self, value: Any, key: str, *, tables: bool = False) -> tuple[Any, bool]:
        """Resolve references in strings, also in lists and tables; return (value, used_env).

        A string that used a reference becomes an :class:`EnvText`, which shows itself as
        written; a NUL character, written or from the environment, is refused. With
        ``tables``, the values in tables are resolved too (a provider setting such as
        ``headers = { X-Api-Key = "${KEY}" }``), never their keys.
        """
        if isinstance(value, list):
            items = [self.resolve(v, f"{key}[{i}]", tables=tables) for i, v in enumerate(value)]
            return [v for v, _ in items], any(u for _, u in items)
        if tables and isinstance(value, Mapping):
            pairs = {
                k: self.resolve(v, f"{key}.{key_part(str(k))}", tables=True)
                for k, v in value.items()
            }
            return {k: v for k, (v, _) in pairs.items()}, any(u for _, u in pairs.values())
        if not isinstance(value, str):
            return value, False
        if "$" not in value:
            self.refuse_nul(value, key)
            return value, False
        used = False

        def sub(match: re.Match[str]) -> str:
            nonlocal used
            found = match.group(0)
            if found == "$$":
                return "$"
            inner = match.group(1)
            var = _VAR.match(inner or "") if inner is not None else None
            if var is None:
                self.problem(
                    key,
                    f"malformed environment reference {shown(found)}",
                    "write ${NAME} with NAME made of letters, digits and '_' "
                    "(or $$ for a literal '$')",
                )
                return ""
            used = True
            name, default = var.group(1), var.group(2)
            if name in self.env:
                return self.env[name]
            if default is not None:
                return default
            self.problem(
                key,
                f"environment variable {name} is not set",
                f"export {name}=... before running, or write ${{{name}:-default}}",
            )
            return ""

        resolved = _REF.sub(sub, value)
        result = EnvText(resolved, value) if used else resolved
        self.refuse_nul(result, key)
        return result, used

    def refuse_nul(self, value: str, key: str) -> None:
        if "\x00" in value:
            self.problem(
                key,
                f"{shown(value)} contains a NUL character",
                "remove it (a \\u0000 escape in the file, or a NUL in the variable's value)",
            )

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
        gateway_values = self.gateway(gateway)
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

    def gateway(self, table: Mapping[str, Any]) -> dict[str, Any]:
        for key in table:
            if key not in GATEWAY_KEYS:
                close = difflib.get_close_matches(key, list(GATEWAY_KEYS), n=1)
                self.problem(
                    f"gateway.{key_part(key)}",
                    "is not a gateway setting",
                    (f"did you mean {close[0]!r}? " if close else "")
                    + f"the [gateway] keys are: {', '.join(GATEWAY_KEYS)}",
                )
        store, name = self.store(table)
        dry_run = False
        try:
            dry_run = read_bool(table.get("dry_run", False), "dry_run")
        except BadValue as bad:
            self.problem("gateway.dry_run", bad.message, bad.fix)
        audit_size = 1000
        try:
            audit_size = read_number(table.get("audit_size", 1000), AUDIT_SIZE, "audit_size", 1000)
        except BadValue as bad:
            self.problem("gateway.audit_size", bad.message, f"{bad.fix} (0 keeps no audit trail)")
        state_dir = None
        raw_dir, _ = self.resolve(table.get("state_dir"), "gateway.state_dir")
        if raw_dir is not None:
            if not isinstance(raw_dir, str) or not raw_dir.strip():
                self.problem(
                    "gateway.state_dir",
                    f"expected a folder path, got {shown(raw_dir)}",
                    'write state_dir = ".aicmo-gateway"',
                )
            elif "\x00" not in raw_dir:
                state_dir = Path(str(raw_dir))
                if not state_dir.is_absolute() and self.base is not None:
                    state_dir = self.base / state_dir
                if isinstance(raw_dir, EnvText):
                    self.references["state_dir"] = raw_dir.reference
        return {
            "store": store,
            "name": name,
            "dry_run": dry_run,
            "audit_size": audit_size,
            "state_dir": state_dir,
            "outbox": read_outbox(self, table),
        }

    def store(self, table: Mapping[str, Any]) -> tuple[str, str]:
        """``[gateway] store`` and ``name`` (which namespaces the store's keys), checked."""
        known = len(self.problems)
        store, _ = self.resolve(table.get("store", "memory"), "gateway.store")
        wrong = check_store_url(store) if len(self.problems) == known else None
        if wrong is not None:
            shown_url = (
                redact_url(store)
                if isinstance(store, str) and not isinstance(store, EnvText)
                else store
            )
            self.problem(
                "gateway.store",
                f"{shown(shown_url)} {wrong}",
                'use store = "memory" (one process), "sqlite:///state.db" (the processes of '
                'one host) or "redis://host:6379/0" (several hosts)',
            )
        if isinstance(store, EnvText):
            self.references["store"] = store.reference
        name, _ = self.resolve(table.get("name", "aicmo-gateway"), "gateway.name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            self.problem(
                "gateway.name",
                f"{shown(name)} is not a usable name",
                "use up to 64 letters, digits, '_', '-' or '.', e.g. name = \"crm-sync\"",
            )
            name = "aicmo-gateway"
        return (str(store) if wrong is None else "memory"), str(name)

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
            for k in body:
                if k not in CAPABILITY_KEYS:
                    close = difflib.get_close_matches(k, CAPABILITY_KEYS, n=1)
                    self.problem(
                        f"{key}.{key_part(k)}",
                        "is not a capability setting",
                        (f"did you mean {close[0]!r}? " if close else "")
                        + f"the keys are: {', '.join(CAPABILITY_KEYS)}",
                    )
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
