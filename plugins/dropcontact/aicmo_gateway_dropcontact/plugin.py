"""The plugin: the ``dropcontact`` type, for email verification and lead enrichment.

Registered through ``[project.entry-points.aicmo_gateway] dropcontact =
"aicmo_gateway_dropcontact.plugin"``. One type name serves both capabilities (the
registry keys types by capability and name). Importing this module is cheap: the hook
names the settings class by module, and the HTTP client (httpx) is imported when a request is
sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aicmo_gateway import ProviderType, RateLimit, hookimpl

__all__ = ["aicmo_email_verifiers", "aicmo_lead_enrichers", "dropcontact_provider"]


def dropcontact_provider(**settings: Any) -> Any:
    """Build a ``dropcontact`` provider from its config keys (see ``DropcontactSettings``)."""
    from aicmo_gateway_dropcontact.provider import DropcontactProvider
    from aicmo_gateway_dropcontact.settings import DropcontactSettings

    return DropcontactProvider(DropcontactSettings(**settings))


def _provider_type(summary: str) -> ProviderType:
    return ProviderType(
        "dropcontact",
        dropcontact_provider,
        summary,
        settings="aicmo_gateway_dropcontact.settings:DropcontactSettings",
        batch_size=250,
        # 60 requests a second; every call is a submission and at least one poll
        rate_limit=RateLimit(per_second=30, burst=30),
        has_check=True,
        min_attempt_timeout=_attempt_time,
    )


def _attempt_time(settings: Mapping[str, Any]) -> float:
    """An attempt submits a batch, then polls for up to ``poll_timeout``: it needs both."""
    return float(settings.get("poll_timeout", 180.0)) + float(settings.get("timeout", 30.0))


@hookimpl
def aicmo_email_verifiers() -> list[ProviderType]:
    return [
        _provider_type(
            "Dropcontact email verification (asynchronous batches of 250, polled); "
            "1 credit per address"
        )
    ]


@hookimpl
def aicmo_lead_enrichers() -> list[ProviderType]:
    return [
        _provider_type(
            "Dropcontact B2B enrichment (asynchronous batches of 250, polled); 1 credit per "
            "verified email found"
        )
    ]
