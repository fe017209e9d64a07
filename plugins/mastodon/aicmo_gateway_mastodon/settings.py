"""The settings of the ``mastodon`` provider type: its config keys and their checks.

Each field is a config key. Invalid values raise ``ValueError`` naming the key and the fix;
the core reports them as configuration errors. The access token is a
:class:`~aicmo_gateway.Secret`, so no repr, log line or error shows it.

This module is cheap to import (no HTTP client): the plugin's hook loads it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import attrs

from aicmo_gateway import Secret
from aicmo_gateway.http import check_base_url

__all__ = ["VISIBILITIES", "MastodonSettings", "most_private"]

#: Mastodon's visibilities, from the most public to the most private
VISIBILITIES = ("public", "unlisted", "private", "direct")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def most_private(*visibilities: str) -> str:
    """The most private of ``visibilities`` (``direct`` beats ``private`` beats ...)."""
    return max(visibilities, key=VISIBILITIES.index)


def _token(value: str | Secret) -> Secret:
    secret = Secret(value)
    if not secret.reveal().strip():
        raise ValueError(
            "access_token: is empty; set access_token = '${MASTODON_ACCESS_TOKEN}' (create one "
            "under Preferences > Development > New application, with the write:statuses and "
            "write:media scopes)"
        )
    return secret


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")


def _check_visibility(_: Any, __: Any, value: str) -> None:
    if value not in VISIBILITIES:
        raise ValueError(
            f"visibility: {value!r} is not a Mastodon visibility; use one of "
            f"{', '.join(VISIBILITIES)}"
        )


def _check_language(_: Any, __: Any, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _LANGUAGE.match(value)):
        raise ValueError(
            f"language: {value!r} is not an ISO 639 language code; write e.g. 'en' or 'fr'"
        )


@attrs.frozen
class MastodonSettings:
    """How to reach one Mastodon account (the ``mastodon`` provider type's keys)."""

    #: the instance's address, e.g. "https://mastodon.social"
    instance_url: str = attrs.field(validator=check_base_url)
    #: an access token with the write:statuses and write:media scopes
    access_token: Secret = attrs.field(converter=_token)
    #: the most public a post may be: a post asking for more is sent with this one
    visibility: str = attrs.field(default="public", validator=_check_visibility)
    #: the language of posts that do not name theirs (ISO 639, e.g. "en")
    language: str | None = attrs.field(default=None, validator=_check_language)
    #: seconds allowed for each request (connect, send, answer)
    timeout: float = attrs.field(default=30.0, validator=_positive)
