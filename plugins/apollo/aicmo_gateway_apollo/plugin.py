"""The plugin: the ``apollo`` lead enricher type.

Registered through ``[project.entry-points.aicmo_gateway] apollo =
"aicmo_gateway_apollo.plugin"``. Importing this module is cheap: the hook names the
settings class by module, and the HTTP client (httpx) is imported when a request is sent.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import ProviderType, Quota, hookimpl

__all__ = ["PLAN_QUOTAS", "aicmo_lead_enrichers", "apollo_enricher"]

#: Apollo's published limits for its enrichment endpoints, per team and endpoint
#: (docs.apollo.io/reference/rate-limits): paid plans 1,000 requests a minute and no hourly
#: or daily cap; the free plan 50 a minute, 200 an hour, 600 a day.
PLAN_QUOTAS: dict[str, tuple[Quota, ...]] = {
    "paid": (Quota(limit=1000, period="minute"),),
    "free": (
        Quota(limit=50, period="minute"),
        Quota(limit=200, period="hour"),
        Quota(limit=600, period="day"),
    ),
}


def apollo_enricher(**settings: Any) -> Any:
    """Build an ``apollo`` enricher from its config keys (see ``ApolloSettings``)."""
    from aicmo_gateway_apollo.enricher import ApolloEnricher
    from aicmo_gateway_apollo.settings import ApolloSettings

    return ApolloEnricher(ApolloSettings(**settings))


@hookimpl
def aicmo_lead_enrichers() -> list[ProviderType]:
    return [
        ProviderType(
            "apollo",
            apollo_enricher,
            "Apollo.io people match, bulk match (10 per request) and organization "
            "enrichment; 1 credit per matched person (+8 with reveal_phone)",
            settings="aicmo_gateway_apollo.settings:ApolloSettings",
            batch_size=10,
            quotas=PLAN_QUOTAS["paid"],
            has_check=True,
        )
    ]
