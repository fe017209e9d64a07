"""The settings of the ``apollo`` provider type: its config keys and checks.

Each field is a config key. Invalid values raise ``ValueError`` naming the key and
the fix; the core reports them as configuration errors. The API key is a
:class:`~aicmo_gateway.Secret`, so no repr, log line or error shows it.

This module is cheap to import (no HTTP client): the plugin's hook loads it.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

import attrs

from aicmo_gateway import Quota, Secret
from aicmo_gateway.http import check_base_url
from aicmo_gateway_apollo.plugin import PLAN_QUOTAS

__all__ = ["DEFAULT_BASE_URL", "PLAN_QUOTAS", "ApolloSettings"]

DEFAULT_BASE_URL = "https://api.apollo.io"


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not (
        isinstance(value, int | float) and math.isfinite(value) and value > 0
    ):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")


def _check_plan(_: Any, __: Any, value: str) -> None:
    if value not in PLAN_QUOTAS:
        raise ValueError(
            f"plan: {value!r} is not an Apollo plan kind; use 'paid' (Basic, Professional, "
            "Organization) or 'free'"
        )


def _check_webhook(_: Any, __: Any, value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            f"webhook_url: {value!r} is not an https URL; Apollo delivers revealed phone "
            "numbers only to a public https endpoint, e.g. 'https://hooks.example.com/apollo'"
        )


def _secret(value: str | Secret) -> Secret:
    secret = Secret(value)
    if not secret.reveal().strip():
        raise ValueError("api_key: is empty; set api_key = '${APOLLO_API_KEY}'")
    return secret


@attrs.frozen
class ApolloSettings:
    """How to reach Apollo and what to ask it for (the ``apollo`` provider type's keys)."""

    #: the API key, sent in the ``x-api-key`` header (Settings > Integrations > API in Apollo)
    api_key: Secret = attrs.field(converter=_secret)
    #: the API's root; point it at a proxy or a test server
    base_url: str = attrs.field(default=DEFAULT_BASE_URL, validator=check_base_url)
    #: ask Apollo for phone numbers (up to 8 more credits per person); Apollo delivers them
    #: later, to ``webhook_url``, never in the answer this provider returns
    reveal_phone: bool = False
    #: the https endpoint Apollo posts revealed phone numbers to (required with reveal_phone)
    webhook_url: str | None = attrs.field(default=None, validator=_check_webhook)
    #: fetch the company with organization enrichment when the person's match has none
    enrich_company: bool = True
    #: 'paid' or 'free': which of Apollo's published rate limits the chain keeps to
    plan: str = attrs.field(default="paid", validator=_check_plan)
    #: seconds allowed for each request
    timeout: float = attrs.field(default=30.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.reveal_phone and self.webhook_url is None:
            raise ValueError(
                "webhook_url: reveal_phone = true needs webhook_url, the https endpoint "
                "Apollo posts the phone numbers to (they never come back in the answer); "
                "set webhook_url = 'https://...' or reveal_phone = false"
            )
        if self.webhook_url is not None and not self.reveal_phone:
            raise ValueError(
                "webhook_url: is set but reveal_phone is false; Apollo accepts a webhook_url "
                "only with reveal_phone = true: remove webhook_url or set reveal_phone = true"
            )

    @property
    def quotas(self) -> tuple[Quota, ...]:
        """The request limits of the plan's enrichment endpoints."""
        return PLAN_QUOTAS[self.plan]
