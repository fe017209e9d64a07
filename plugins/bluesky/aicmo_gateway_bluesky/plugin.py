"""The plugin: the ``bluesky`` social poster type.

Registered through ``[project.entry-points.aicmo_gateway] bluesky =
"aicmo_gateway_bluesky.plugin"``. Importing this module is cheap: the hook names
the settings class by module, and httpx is imported when a poster makes its first request.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import Idempotency, ProviderType, Quota, hookimpl

__all__ = ["BLUESKY_QUOTAS", "aicmo_social_posters", "bluesky_poster"]

#: the PDS's write limits per account: 5,000 points an hour and 35,000 a day, a created
#: record costs 3 points (docs.bsky.app/docs/advanced-guides/rate-limits)
BLUESKY_QUOTAS = (Quota(limit=1666, period="hour"), Quota(limit=11666, period="day"))


def bluesky_poster(**settings: Any) -> Any:
    """Build a ``bluesky`` poster from its config keys (see ``BlueskySettings``)."""
    from aicmo_gateway_bluesky.poster import BlueskyPoster
    from aicmo_gateway_bluesky.settings import BlueskySettings

    return BlueskyPoster(BlueskySettings(**settings))


@hookimpl
def aicmo_social_posters() -> list[ProviderType]:
    return [
        ProviderType(
            "bluesky",
            bluesky_poster,
            "posts to Bluesky; retries are safe (a record key derived from the call's key)",
            settings="aicmo_gateway_bluesky.settings:BlueskySettings",
            idempotency=Idempotency.KEY_HEADER,
            quotas=BLUESKY_QUOTAS,
            has_check=True,
        )
    ]
