"""The plugin: the ``apollo`` lead enricher type.

Registered through ``[project.entry-points.aicmo_gateway] apollo =
"aicmo_gateway_apollo.plugin"``. Importing this module is cheap: the hook loads the
settings class only, and the HTTP client (httpx) is imported when a request is sent.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import ProviderType, hookimpl

__all__ = ["aicmo_lead_enrichers", "apollo_enricher"]


def apollo_enricher(**settings: Any) -> Any:
    """Build an ``apollo`` enricher from its config keys (see ``ApolloSettings``)."""
    from aicmo_gateway_apollo.enricher import ApolloEnricher
    from aicmo_gateway_apollo.settings import ApolloSettings

    return ApolloEnricher(ApolloSettings(**settings))


@hookimpl
def aicmo_lead_enrichers() -> list[ProviderType]:
    from aicmo_gateway_apollo.settings import PLAN_QUOTAS, ApolloSettings

    return [
        ProviderType(
            "apollo",
            apollo_enricher,
            "Apollo.io people match, bulk match (10 per request) and organization "
            "enrichment; 1 credit per matched person (+8 with reveal_phone)",
            settings=ApolloSettings,
            batch_size=10,
            quotas=PLAN_QUOTAS["paid"],
            has_check=True,
        )
    ]
