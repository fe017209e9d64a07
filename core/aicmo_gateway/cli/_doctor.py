"""What ``doctor`` finds: one row per plugin, the configuration and each live check."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import attrs

from aicmo_gateway.config.location import ENV_CONFIG
from aicmo_gateway.errors import ConfigError
from aicmo_gateway.plugins.registry import ENV_DISABLE, PluginStatus, Registry

__all__ = ["Finding", "config_findings", "plugin_findings"]


@attrs.frozen
class Finding:
    area: str
    item: str
    ok: bool
    detail: str
    fix: str = ""


def plugin_findings(registry: Registry) -> list[Finding]:
    found = []
    for info in registry.plugins:
        label = f"{info.name} ({info.distribution} {info.version})"
        if info.status is PluginStatus.QUARANTINED:
            found.append(
                Finding(
                    "plugin",
                    label,
                    False,
                    info.reason or "",
                    f"pip install -U {info.distribution}, or set {ENV_DISABLE}={info.distribution}",
                )
            )
        elif info.status is PluginStatus.DISABLED:
            found.append(Finding("plugin", label, True, f"disabled: {info.reason}"))
        else:
            found.append(
                Finding("plugin", label, True, f"active, {len(info.provider_types)} provider types")
            )
        for warning in info.warnings:
            found.append(
                Finding(
                    "plugin",
                    label,
                    False,
                    warning,
                    "rename the hook function to a documented hook name",
                )
            )
    for problem in registry.problems:
        found.append(
            Finding(
                "plugin",
                "switches",
                False,
                problem,
                "correct the distribution name in the variable",
            )
        )
    return found


def config_findings(
    registry: Registry, path: Path | None, live: bool, timeout: float
) -> list[Finding]:
    if path is None:
        return [
            Finding(
                "config", "-", True, f"no configuration file (pass --config or set {ENV_CONFIG})"
            )
        ]
    from aicmo_gateway.cli._doctor_outbox import outbox_findings
    from aicmo_gateway.config.load import load_config
    from aicmo_gateway.gateway import Gateway

    outbox: list[Finding] = []
    try:
        config = load_config(path, registry=registry)
        outbox = outbox_findings(config)  # before a gateway migrates its schema
        gateway = Gateway.from_loaded(config, registry)
    except ConfigError as exc:
        return [
            Finding("config", p.key or str(path), False, p.message, p.fix) for p in exc.problems
        ] + outbox
    found = [
        Finding(
            "config", str(path), True, f"{len(gateway.config.capabilities)} capabilities configured"
        )
    ]
    found += [Finding("config", str(path), True, f"warning: {w}") for w in gateway.config.warnings]
    found += outbox
    if live:

        async def run() -> list[Any]:
            try:
                return await gateway.check(timeout)
            finally:
                await gateway.aclose()

        for result in asyncio.run(run()):
            found.append(
                Finding(
                    "live",
                    f"{result.capability}/{result.provider} ({result.provider_type})",
                    result.ok,
                    f"{result.detail} ({result.duration * 1000:.0f} ms)",
                    ""
                    if result.ok
                    else f"check [providers.{result.provider}] settings, "
                    "credentials and network reachability",
                )
            )
        from aicmo_gateway.cli._sender import sender_domain_findings

        found += sender_domain_findings(gateway.config, timeout)
    else:
        asyncio.run(gateway.aclose())
    return found
