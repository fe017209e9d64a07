"""What became of each plugin: ``PluginStatus`` and the ``PluginInfo`` record.

Filled in by :class:`aicmo_gateway.plugins.registry.Registry`; shown by ``aicmo-gateway plugins``.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from aicmo_gateway.plugins.provider_type import ProviderType

__all__ = ["PluginInfo", "PluginStatus"]


class PluginStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    QUARANTINED = "quarantined"


@attrs.frozen
class PluginInfo:
    """One plugin (an entry point of a distribution) and what became of it."""

    name: str
    distribution: str
    version: str
    status: PluginStatus
    module: str
    reason: str | None = None
    provider_types: tuple[ProviderType, ...] = ()
    #: problems that did not stop the plugin (e.g. a misspelt hook name)
    warnings: tuple[str, ...] = ()
    builtin: bool = False

    def to_json(self) -> dict[str, Any]:
        ports: dict[str, list[str]] = {}
        for pt in self.provider_types:
            ports.setdefault(pt.port or "?", []).append(pt.name)
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status.value,
            "reason": self.reason,
            "module": self.module,
            "builtin": self.builtin,
            "provider_types": ports,
            "warnings": list(self.warnings),
        }
