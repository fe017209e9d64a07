"""The settings of the ``resend`` provider type: its config keys and their checks.

Each field is a config key. Invalid values raise ``ValueError`` naming the key and the fix;
the core reports them as configuration errors. The API key is a
:class:`~aicmo_gateway.Secret`, so no repr, log line or error shows it.

This module is cheap to import (no HTTP client): the plugin's hook loads it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

import attrs

from aicmo_gateway import Quota, Secret
from aicmo_gateway.http import check_base_url

__all__ = ["PLANS", "ResendSettings"]

#: plan -> the daily quota Resend enforces on it (paid plans have monthly quotas only)
PLANS: dict[str, tuple[Quota, ...]] = {
    "free": (Quota(limit=100, period="day"),),
    "paid": (),
}
_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _secret(value: str | Secret) -> Secret:
    secret = Secret(value)
    if not secret.reveal().strip():
        raise ValueError(
            "api_key: is empty; set api_key = '${RESEND_API_KEY}' (a key from "
            "resend.com/api-keys; a 'sending access' key is enough)"
        )
    return secret


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")


def _check_address(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or "@" not in parseaddr(value)[1]):
        raise ValueError(
            f"{attribute.name}: {value!r} is not an email address; write it as "
            "'sales@example.com' or 'Sales <sales@example.com>' (on a domain verified in Resend)"
        )


def _check_plan(_: Any, __: Any, value: str) -> None:
    if value not in PLANS:
        raise ValueError(
            f"plan: {value!r} is not known; use 'free' (100 emails a day) or 'paid' "
            "(no daily quota)"
        )


def _tags(value: Mapping[str, str] | None) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError("tags: expected a table of name = value, e.g. tags = { campaign = 'q4' }")
    for name, tag in value.items():
        for part in (name, tag):
            if not isinstance(part, str) or not _TAG.match(part):
                raise ValueError(
                    f"tags: {part!r} is not allowed; Resend tag names and values use only "
                    "ASCII letters, digits, '_' and '-' (at most 256 characters)"
                )
    return dict(value)


_DNS_NAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$")


def _check_dns_name(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _DNS_NAME.match(value)):
        raise ValueError(
            f"{attribute.name}: {value!r} is not a DNS name; write it as ASCII labels "
            "separated by dots, e.g. 'example.com' (a selector: 'google' or 's1')"
        )


@attrs.frozen
class ResendSettings:
    """How to reach one Resend account (the ``resend`` provider type's keys)."""

    #: an API key from resend.com/api-keys; "sending access" is enough
    api_key: Secret = attrs.field(converter=_secret)
    base_url: str = attrs.field(default="https://api.resend.com", validator=check_base_url)
    #: seconds allowed for each request (connect, send, answer)
    timeout: float = attrs.field(default=30.0, validator=_positive)
    #: the From address for messages without a sender (on a domain verified in Resend)
    default_sender: str | None = attrs.field(default=None, validator=_check_address)
    #: "free" (a daily quota of 100 emails) or "paid" (no daily quota)
    plan: str = attrs.field(default="free", validator=_check_plan)
    #: tags added to every email (Resend's ``tags``), e.g. { campaign = "q4" }
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=_tags)
    #: the domain whose SPF, DMARC and DKIM ``doctor --live`` checks
    #: (default: default_sender's)
    sender_domain: str | None = attrs.field(default=None, validator=_check_dns_name)
    #: the DKIM selector ``doctor --live`` checks at <selector>._domainkey.<domain>
    #: (default: resend)
    dkim_selector: str | None = attrs.field(default=None, validator=_check_dns_name)

    @property
    def quotas(self) -> tuple[Quota, ...]:
        """The quotas of this account's plan."""
        return PLANS[self.plan]
