"""The ``Registry`` of plugins and provider types: each plugin loaded in isolation, lookups.

Every distribution with an entry point in the ``aicmo_gateway`` group is a
plugin, the core included (its built-in providers come through its own entry
point). Each entry point is loaded on its own; a plugin that fails to import,
raises in a hook, returns something that is not a ``ProviderType``, claims a
``(port, name)`` another plugin has, or requires an incompatible core is
quarantined with a reason, and everything else keeps working.

Environment switches (read by :meth:`Registry.discover`):

``AICMO_GATEWAY_LOAD_PLUGINS``
    unset: all; empty: none but the core's own; ``a,b``: only those.
``AICMO_GATEWAY_DISABLE_PLUGINS``
    ``a,b``: skip those.
``AICMO_GATEWAY_STRICT_PLUGINS=1``
    raise :class:`~aicmo_gateway.errors.PluginError` instead of quarantining.
``AICMO_GATEWAY_TRACE_PLUGINS=1``
    log every hook call.

Names in the lists match a distribution name or an entry-point name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pluggy

from aicmo_gateway.errors import PluginError, UnknownProviderType
from aicmo_gateway.logs import logger
from aicmo_gateway.plugins import hookspecs
from aicmo_gateway.plugins.collect import collect
from aicmo_gateway.plugins.discovery import (
    BUILTIN_MODULE,
    CORE_DISTRIBUTION,
    ENV_DISABLE,
    ENV_LOAD,
    ENV_STRICT,
    ENV_TRACE,
    GROUP,
    Candidate,
    Quarantine,
    canonicalize_name,
    check_core_requirement,
    core_version,
    env_list,
    find_candidates,
    hook_warnings,
    import_candidate,
)
from aicmo_gateway.plugins.info import PluginInfo, PluginStatus
from aicmo_gateway.plugins.known import install_hint
from aicmo_gateway.plugins.observers import Observers
from aicmo_gateway.plugins.provider_type import ProviderType

__all__ = [
    "CORE_DISTRIBUTION",
    "ENV_DISABLE",
    "ENV_LOAD",
    "ENV_STRICT",
    "ENV_TRACE",
    "PluginInfo",
    "PluginStatus",
    "Registry",
    "core_version",
]


def _switched_on(env: Mapping[str, str], key: str) -> bool:
    """Whether the switch ``key`` is set to a true word (``1``, ``true``, ``yes``, ``on``)."""
    value = env.get(key, "")
    if not value:
        return False  # the usual case: the config values' module stays unimported
    from aicmo_gateway.config_values import truth_word

    return truth_word(value) is True


class Registry:
    """The discovered plugins and the provider types they offer, per port."""

    def __init__(self, *, strict: bool = False, trace: bool = False) -> None:
        self.strict = strict
        self.trace = trace
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        #: problems with the switches themselves (e.g. a name that matches no plugin)
        self.problems: list[str] = []
        self._types: dict[tuple[str, str], ProviderType] = {}
        self._observers = Observers(self.pm, trace=trace)
        if trace:
            self.pm.add_hookcall_monitoring(self._trace_before, self._trace_after)

    # -- construction ---------------------------------------------------------

    @classmethod
    def discover(
        cls,
        *,
        path: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Registry:
        """Find and load every plugin installed on ``path`` (default: ``sys.path``)."""
        env = os.environ if env is None else env
        registry = cls(strict=_switched_on(env, ENV_STRICT), trace=_switched_on(env, ENV_TRACE))
        load = env_list(env, ENV_LOAD)
        disable = env_list(env, ENV_DISABLE) or set()
        candidates = find_candidates(path)
        for wanted, variable in ((load or set(), ENV_LOAD), (disable, ENV_DISABLE)):
            for name in sorted(wanted):
                if not any(c.matches({name}) for c in candidates):
                    known = ", ".join(sorted({c.distribution for c in candidates}))
                    registry.problems.append(
                        f"{variable} names {name!r}, which matches no installed plugin "
                        f"(installed: {known})"
                    )
        for cand in candidates:
            if not cand.builtin and load is not None and not cand.matches(load):
                registry._add_disabled(cand, f"not listed in {ENV_LOAD}")
            elif not cand.builtin and cand.matches(disable):
                registry._add_disabled(cand, f"disabled by {ENV_DISABLE}")
            else:
                registry._load(cand)
        return registry

    @classmethod
    def from_plugins(
        cls,
        plugins: Mapping[str, Any],
        *,
        include_builtin: bool = True,
        strict: bool = False,
    ) -> Registry:
        """A registry of given plugin objects (modules or namespaces), for tests and embedding."""
        registry = cls(strict=strict)
        cands = []
        if include_builtin:
            cands.append(
                Candidate(
                    "builtin",
                    CORE_DISTRIBUTION,
                    core_version(),
                    BUILTIN_MODULE,
                    None,
                    (),
                    builtin=True,
                )
            )
        for name, obj in plugins.items():
            module = getattr(obj, "__name__", name)
            cands.append(Candidate(name, name, "0", module, obj))
        for cand in cands:
            registry._load(cand)
        return registry

    # -- loading ----------------------------------------------------------------

    def _add_disabled(self, cand: Candidate, reason: str) -> None:
        self.plugins.append(
            PluginInfo(
                cand.name,
                cand.distribution,
                cand.version,
                PluginStatus.DISABLED,
                cand.module,
                reason,
                builtin=cand.builtin,
            )
        )

    def _load(self, cand: Candidate) -> None:
        plugin_id = f"{cand.distribution}:{cand.name}"
        obj: Any = None
        try:
            check_core_requirement(cand)
            obj = import_candidate(cand)
            try:
                self.pm.register(obj, name=plugin_id)
            except Exception as exc:
                raise Quarantine(f"its hooks do not match the contract: {exc}", exc) from exc
            warnings = hook_warnings(self.pm, obj)
            provided = collect(self.pm, cand, obj, self._types, trace=self.trace)
        except Quarantine as q:
            if obj is not None and self.pm.is_registered(obj):
                self.pm.unregister(obj)
            self._quarantine(cand, q)
            return
        if self.strict and warnings:
            self.pm.unregister(obj)
            raise PluginError(f"plugin {cand.name} ({cand.distribution}): " + "; ".join(warnings))
        for pt in provided:
            self._types[(pt.port or "", pt.name)] = pt
        self.plugins.append(
            PluginInfo(
                cand.name,
                cand.distribution,
                cand.version,
                PluginStatus.ACTIVE,
                cand.module,
                None,
                tuple(provided),
                tuple(warnings),
                cand.builtin,
            )
        )
        for warning in warnings:
            logger.warning("plugin {} ({}): {}", cand.name, cand.distribution, warning)

    def _quarantine(self, cand: Candidate, q: Quarantine) -> None:
        reason = q.reason
        logger.warning(
            "plugin {} ({} {}) quarantined: {}",
            cand.name,
            cand.distribution,
            cand.version,
            reason,
        )
        if self.strict:
            raise PluginError(
                f"plugin {cand.name} ({cand.distribution} {cand.version}, core "
                f"{core_version()}): {reason}"
            ) from q.cause
        self.plugins.append(
            PluginInfo(
                cand.name,
                cand.distribution,
                cand.version,
                PluginStatus.QUARANTINED,
                cand.module,
                reason,
                builtin=cand.builtin,
            )
        )

    # -- tracing ---------------------------------------------------------------

    def _trace_before(
        self, hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> None:
        logger.debug("hook {} -> {}", hook_name, [i.plugin_name for i in impls])

    def _trace_after(self, outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
        logger.debug("hook {} done", hook_name)

    # -- queries -------------------------------------------------------------------

    def provider_types(self, port: str | None = None) -> list[ProviderType]:
        """Every active provider type, optionally for one port, sorted by port then name."""
        return sorted(
            (pt for (p, _), pt in self._types.items() if port is None or p == port),
            key=lambda pt: (pt.port or "", -pt.priority, pt.name),
        )

    def get(self, port: str, name: str) -> ProviderType:
        """The provider type ``name`` for ``port``; an actionable error when there is none."""
        found = self._types.get((port, name))
        if found is not None:
            return found
        raise UnknownProviderType(self.explain_unknown(port, name))

    def explain_unknown(self, port: str, name: str) -> str:
        installed = [pt.name for pt in self.provider_types(port)]
        parts = [
            f"no installed plugin provides the {port} provider type {name!r}; "
            f"installed {port} types: {', '.join(installed) or 'none'}"
        ]
        elsewhere = sorted(p for (p, n) in self._types if n == name)
        if elsewhere:
            parts.append(f"{name!r} is a {' and '.join(elsewhere)} type, not {port}")
        for info in self.plugins:
            if info.status is not PluginStatus.ACTIVE and (
                canonicalize_name(info.distribution).endswith(canonicalize_name(name))
                or info.name == name
            ):
                parts.append(
                    f"plugin {info.name} ({info.distribution}) is {info.status}: {info.reason}"
                )
        hint = install_hint(name, port)
        if hint:
            parts.append(hint)
        else:
            import difflib

            close = difflib.get_close_matches(name, installed, n=1)
            if close:
                parts.append(f"did you mean {close[0]!r}?")
        return "; ".join(parts)

    def observes(self, hook: str) -> bool:
        """Whether any plugin implements the observer ``hook`` (so a record is worth building)."""
        return self._observers.observes(hook)

    def notify(self, hook: str, scrub: Callable[[str], str] | None = None, **kwargs: Any) -> None:
        """Call an observer hook on every plugin; an observer that raises is logged, not raised
        (see :meth:`aicmo_gateway.plugins.observers.Observers.notify`)."""
        self._observers.notify(hook, scrub, **kwargs)

    @property
    def active(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.status is PluginStatus.ACTIVE]

    @property
    def quarantined(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.status is PluginStatus.QUARANTINED]
