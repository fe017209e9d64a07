"""The settings of the ``bluesky`` provider type: its config keys and their checks.

Each field is a config key. Invalid values raise ``ValueError`` naming the key and the fix;
the core reports them as configuration errors. The app password is a
:class:`~aicmo_gateway.Secret`, so no repr, log line or error shows it.

This module is cheap to import (no HTTP client): the plugin's hook loads it.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from aicmo_gateway import Secret
from aicmo_gateway.http import check_base_url

__all__ = ["BlueskySettings"]


def _identifier(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise ValueError(
            f"identifier: {value!r} is not an account; write the handle (e.g. "
            "'sales.bsky.social'), the DID ('did:plc:...') or the account's email"
        )
    return value.strip().removeprefix("@")


def _password(value: str | Secret) -> Secret:
    secret = Secret(value)
    if not secret.reveal().strip():
        raise ValueError(
            "app_password: is empty; set app_password = '${BLUESKY_APP_PASSWORD}' (create one "
            "under Settings > Privacy and security > App passwords; never the account password)"
        )
    return secret


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")


@attrs.frozen
class BlueskySettings:
    """How to reach one Bluesky account (the ``bluesky`` provider type's keys)."""

    #: the account's handle, DID or email
    identifier: str = attrs.field(converter=_identifier)
    #: an app password (Settings > Privacy and security > App passwords)
    app_password: Secret = attrs.field(converter=_password)
    #: the account's PDS; the public entryway works for every bsky.social account
    service: str = attrs.field(default="https://bsky.social", validator=check_base_url)
    #: seconds allowed for each request (connect, send, answer)
    timeout: float = attrs.field(default=30.0, validator=_positive)
