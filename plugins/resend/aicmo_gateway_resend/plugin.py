"""The plugin: the ``resend`` email sender type.

Registered through ``[project.entry-points.aicmo_gateway] resend =
"aicmo_gateway_resend.plugin"``. Importing this module is cheap: the hook names
the settings class by module, and httpx is imported when a sender makes its first request.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import Idempotency, ProviderType, Quota, RateLimit, hookimpl

__all__ = ["FREE_DAILY_QUOTA", "RESEND_RATE_LIMIT", "aicmo_email_senders", "resend_sender"]

#: Resend's documented default: 5 requests per second per team (api-reference/rate-limit)
RESEND_RATE_LIMIT = RateLimit(per_second=5)
#: the free plan's daily quota (100 emails a day; paid plans have none): see the README
FREE_DAILY_QUOTA = Quota(limit=100, period="day")


def resend_sender(**settings: Any) -> Any:
    """Build a ``resend`` sender from its config keys (see ``ResendSettings``)."""
    from aicmo_gateway_resend.sender import ResendSender
    from aicmo_gateway_resend.settings import ResendSettings

    return ResendSender(ResendSettings(**settings))


@hookimpl
def aicmo_email_senders() -> list[ProviderType]:
    return [
        ProviderType(
            "resend",
            resend_sender,
            "sends through the Resend HTTP API; retries are safe (Idempotency-Key)",
            settings="aicmo_gateway_resend.settings:ResendSettings",
            idempotency=Idempotency.KEY_HEADER,
            rate_limit=RESEND_RATE_LIMIT,
            quotas=[FREE_DAILY_QUOTA],
            has_check=True,
        )
    ]
