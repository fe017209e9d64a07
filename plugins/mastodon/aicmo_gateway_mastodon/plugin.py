"""The plugin: the ``mastodon`` social poster type.

Registered through ``[project.entry-points.aicmo_gateway] mastodon =
"aicmo_gateway_mastodon.plugin"``. Importing this module is cheap: the hook names
the settings class by module, and httpx is imported when a poster makes its first request.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import Idempotency, ProviderType, RateLimit, hookimpl

__all__ = ["MASTODON_RATE_LIMIT", "aicmo_social_posters", "mastodon_poster"]

#: Mastodon's documented default: 300 API calls per 5 minutes per account (api/rate-limits)
MASTODON_RATE_LIMIT = RateLimit(per_second=1.0, burst=300)


def mastodon_poster(**settings: Any) -> Any:
    """Build a ``mastodon`` poster from its config keys (see ``MastodonSettings``)."""
    from aicmo_gateway_mastodon.poster import MastodonPoster
    from aicmo_gateway_mastodon.settings import MastodonSettings

    return MastodonPoster(MastodonSettings(**settings))


@hookimpl
def aicmo_social_posters() -> list[ProviderType]:
    return [
        ProviderType(
            "mastodon",
            mastodon_poster,
            "posts statuses to a Mastodon instance; retries are safe (Idempotency-Key)",
            settings="aicmo_gateway_mastodon.settings:MastodonSettings",
            idempotency=Idempotency.KEY_HEADER,
            rate_limit=MASTODON_RATE_LIMIT,
            has_check=True,
        )
    ]
