"""The settings of the ``dropcontact`` provider type: its config keys and checks.

Each field is a config key. Invalid values raise ``ValueError`` naming the key and the
fix; the core reports them as configuration errors. The API key is a
:class:`~aicmo_gateway.Secret`, so no repr, log line or error shows it.

This module is cheap to import (no HTTP client): the plugin's hooks load it.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from aicmo_gateway import Secret
from aicmo_gateway.http import check_base_url

__all__ = ["DEFAULT_BASE_URL", "DropcontactSettings"]

#: the API's root, as developer.dropcontact.com documents it
DEFAULT_BASE_URL = "https://api.dropcontact.com"
LANGUAGES = ("en", "fr")


def _seconds(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not (
        isinstance(value, int | float) and math.isfinite(value) and value > 0
    ):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")


def _check_language(_: Any, __: Any, value: str) -> None:
    if value not in LANGUAGES:
        raise ValueError(
            f"language: {value!r} is not a language Dropcontact answers in; use 'en' or 'fr'"
        )


def _secret(value: str | Secret) -> Secret:
    secret = Secret(value)
    if not secret.reveal().strip():
        raise ValueError("api_key: is empty; set api_key = '${DROPCONTACT_API_KEY}'")
    return secret


@attrs.frozen
class DropcontactSettings:
    """How to reach Dropcontact and how long to wait for a batch (the type's keys)."""

    #: the API key, sent in the ``X-Access-Token`` header (app.dropcontact.com/api)
    api_key: Secret = attrs.field(converter=_secret)
    #: the API's root; point it at a proxy or a test server
    base_url: str = attrs.field(default=DEFAULT_BASE_URL, validator=check_base_url)
    #: seconds before the first poll of a submitted batch; each later wait doubles, up to
    #: 30 seconds (Dropcontact's "try again in 30 seconds")
    poll_interval: float = attrs.field(default=5.0, validator=_seconds)
    #: seconds to wait for a batch's result before giving up (the call then fails)
    poll_timeout: float = attrs.field(default=180.0, validator=_seconds)
    #: seconds allowed for each request
    timeout: float = attrs.field(default=30.0, validator=_seconds)
    #: ask for French company data (SIREN, SIRET, NAF) as well
    siren: bool = False
    #: the language of Dropcontact's answers (qualifications): 'en' or 'fr'
    language: str = attrs.field(default="en", validator=_check_language)

    def __attrs_post_init__(self) -> None:
        if self.poll_interval > self.poll_timeout:
            raise ValueError(
                f"poll_interval: {self.poll_interval:g}s is longer than poll_timeout "
                f"({self.poll_timeout:g}s), so no result would ever be fetched; lower "
                "poll_interval or raise poll_timeout"
            )
