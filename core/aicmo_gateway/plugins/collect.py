"""The provider types one plugin offers: its port hooks called, their results checked.

A hook that raises, returns something that is not a ``ProviderType``, returns a type declared
for another port, or a ``(port, name)`` another plugin (or the plugin itself) already
provides, raises :class:`~aicmo_gateway.plugins.discovery.Quarantine` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pluggy

from aicmo_gateway.logs import logger
from aicmo_gateway.plugins.discovery import (
    ENV_DISABLE,
    Candidate,
    Quarantine,
    as_provider_types,
)
from aicmo_gateway.plugins.provider_type import ProviderType
from aicmo_gateway.ports import HOOK_PORTS, PORTS

__all__ = ["collect"]


def collect(
    pm: pluggy.PluginManager,
    cand: Candidate,
    obj: Any,
    known: Mapping[tuple[str, str], ProviderType],
    *,
    trace: bool = False,
) -> list[ProviderType]:
    """The provider types ``obj`` (registered on ``pm`` as ``cand``) offers, filed under their
    port and plugin; ``known`` holds the types other plugins already provide."""
    provided: list[ProviderType] = []
    for hook, port in HOOK_PORTS.items():
        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.plugin is not obj:
                continue
            if trace:
                logger.debug("hook {} of {}: calling", hook, cand.name)
            try:
                result = impl.function()
            except Exception as exc:
                raise Quarantine(f"{hook} raised {type(exc).__name__}: {exc}", exc) from exc
            items = as_provider_types(result, hook)
            if trace:
                logger.debug("hook {} of {}: {}", hook, cand.name, [i.name for i in items])
            for item in items:
                if item.port is not None and item.port != port:
                    right = PORTS[item.port].hook if item.port in PORTS else "its own hook"
                    raise Quarantine(
                        f"{hook} returned {item.name!r} declared for port {item.port!r}; "
                        f"return it from {right}"
                    )
                provided.append(
                    attrs.evolve(
                        item,
                        port=port,
                        plugin=cand.name,
                        distribution=cand.distribution,
                        version=cand.version,
                    )
                )
    seen: dict[tuple[str, str], ProviderType] = {}
    for pt in provided:
        key = (pt.port or "", pt.name)
        owner = known.get(key) or seen.get(key)
        if owner is not None:
            raise Quarantine(
                f"it provides {pt.port} type {pt.name!r}, which {owner.distribution} "
                f"{owner.version} already provides; uninstall one of them or set "
                f"{ENV_DISABLE}={cand.distribution}"
            )
        seen[key] = pt
    return provided
