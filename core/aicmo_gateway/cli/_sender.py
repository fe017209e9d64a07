"""``doctor --live``: the SPF, DMARC and DKIM records of each email sender's domain.

The DNS work lives in the ``verify`` plugin (``aicmo_gateway_verify.sender_domain``),
which already depends on dnspython: the core has no DNS library and keeps it that way.
The plugin is imported only here, only for ``--live``; without it the check is skipped
with a line saying how to install it. The nameservers asked are those of the first
configured ``dns`` provider (its ``nameservers`` setting), else the system's.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

import attrs

from aicmo_gateway.cli._doctor import Finding
from aicmo_gateway.config.load import GatewayConfig

__all__ = ["SenderDomain", "sender_domain_findings", "sender_domains"]

_INSTALL = "pip install ./plugins/verify (aicmo-gateway-verify) to check SPF, DMARC and DKIM"


@attrs.frozen
class SenderDomain:
    """One domain to check, for the providers that send as it."""

    domain: str
    #: SMTP preset or provider type naming what the service needs (see ``PROFILES``)
    profile: str | None
    dkim_selector: str | None
    providers: tuple[str, ...]


def _domain_of(settings: Mapping[str, Any]) -> str | None:
    if isinstance(settings.get("sender_domain"), str):
        return str(settings["sender_domain"]).strip().rstrip(".").lower() or None
    for key in ("default_sender", "username"):
        value = settings.get(key)
        if isinstance(value, str):
            address = parseaddr(value)[1]
            if "@" in address:
                return address.rpartition("@")[2].strip().lower() or None
    return None


def sender_domains(config: GatewayConfig) -> list[SenderDomain]:
    """The sender domains of the ``email_sending`` providers, in chain order, each once."""
    capability = config.capabilities.get("email_sending")
    found: dict[tuple[str, str | None, str | None], list[str]] = {}
    for name in capability.providers if capability is not None else ():
        provider = config.providers.get(name)
        if provider is None:
            continue
        domain = _domain_of(provider.settings)
        if domain is None:
            continue
        preset = provider.settings.get("preset")
        if provider.type == "gmail":  # the smtp plugin's shortcut type
            preset = "google-workspace" if provider.settings.get("workspace") else "gmail"
        profile = preset if isinstance(preset, str) else provider.type
        selector = provider.settings.get("dkim_selector")
        key = (domain, profile, selector if isinstance(selector, str) else None)
        found.setdefault(key, []).append(name)
    return [SenderDomain(d, p, s, tuple(names)) for (d, p, s), names in found.items()]


def _nameservers(config: GatewayConfig) -> Any:
    for provider in config.providers.values():
        if provider.type == "dns" and provider.settings.get("nameservers"):
            return provider.settings["nameservers"]
    return None


def sender_domain_findings(config: GatewayConfig, timeout: float) -> list[Finding]:
    """One finding per record (SPF, DMARC, DKIM) per sender domain."""
    targets = sender_domains(config)
    if not targets:
        return []
    try:  # by name: the core neither depends on the plugin nor type-checks against it
        verify = importlib.import_module("aicmo_gateway_verify.sender_domain")
        lookup = importlib.import_module("aicmo_gateway_verify.lookup")
        parse_nameserver = importlib.import_module("aicmo_gateway_verify.settings").parse_nameserver
    except ImportError:
        return [Finding("sender", t.domain, True, "not checked", _INSTALL) for t in targets]
    listed = _nameservers(config)
    servers = (
        None
        if listed is None
        else [parse_nameserver(s, f"nameservers[{i}]") for i, s in enumerate(listed)]
    )

    async def run() -> list[Finding]:
        resolver = lookup.build_resolver(servers, timeout)
        found = []
        for target in targets:
            profile = verify.PROFILES.get(target.profile or "")
            checks = await verify.check_sender_domain(
                resolver, target.domain, profile=profile, dkim_selector=target.dkim_selector
            )
            label = f"{target.domain} ({', '.join(target.providers)})"
            found += [Finding("sender", f"{label} {c.item}", c.ok, c.detail, c.fix) for c in checks]
        return found

    try:
        return asyncio.run(run())
    except Exception as exc:  # no system resolver, a bad nameserver entry
        return [
            Finding(
                "sender",
                t.domain,
                False,
                f"not checked: {type(exc).__name__}: {exc}",
                "set nameservers in a [providers.<name>] of type dns, or fix the system resolver",
            )
            for t in targets
        ]
