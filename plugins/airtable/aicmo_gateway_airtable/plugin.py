"""The plugin: the ``airtable`` CRM sync type.

Registered through ``[project.entry-points.aicmo_gateway] airtable =
"aicmo_gateway_airtable.plugin"``. Importing this module is cheap: the hook names
the settings class by module, and httpx is imported when a provider makes its first request.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import ProviderType, RateLimit, hookimpl

__all__ = ["AIRTABLE_RATE_LIMIT", "BATCH_SIZE", "aicmo_crm_syncers", "airtable_crm"]

#: Airtable's documented limit: 5 requests per second per base (all plans)
AIRTABLE_RATE_LIMIT = RateLimit(per_second=5, burst=5)
#: records per create or update request
BATCH_SIZE = 10


def airtable_crm(**settings: Any) -> Any:
    """Build an ``airtable`` CRM provider from its config keys (see ``AirtableSettings``)."""
    from aicmo_gateway_airtable.crm import AirtableCrm
    from aicmo_gateway_airtable.settings import AirtableSettings

    return AirtableCrm(AirtableSettings(**settings))


@hookimpl
def aicmo_crm_syncers() -> list[ProviderType]:
    return [
        ProviderType(
            "airtable",
            airtable_crm,
            "upserts contacts into an Airtable table (10 per request, 5 requests/s per base) "
            "and logs engagements in a second one",
            settings="aicmo_gateway_airtable.settings:AirtableSettings",
            batch_size=BATCH_SIZE,
            rate_limit=AIRTABLE_RATE_LIMIT,
            has_check=True,
        )
    ]
