"""The settings of the ``webhook`` provider type: its config keys and their checks.

Each field is a config key. Invalid values raise ``ValueError`` naming the key and the fix; the
core reports them as configuration errors. The signing secret and every extra header value are
:class:`~aicmo_gateway.Secret`; the URL's path and query are kept out of reprs too (a Zapier or
Make URL is itself a credential: anyone who has it can post to the Zap).

This module is cheap to import (no HTTP client): the plugin's hook loads it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from aicmo_gateway import Secret
from aicmo_gateway_webhooks.presets import GENERIC, PRESETS, Preset
from aicmo_gateway_webhooks.signing import decode_secret

__all__ = ["RESERVED_HEADERS", "WebhookSettings", "origin_of"]

#: headers the plugin sets itself (or that frame the request), refused in ``headers``
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what reprs and receipts show of it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _check_url(_: Any, __: Any, value: str) -> None:
    example = "write e.g. url = 'https://hooks.example.com/aicmo'"
    if not isinstance(value, str) or not value:
        raise ValueError(f"url: expected the endpoint's URL; {example}")
    if any(ord(char) < 0x20 or char == "\x7f" or char.isspace() for char in value):
        raise ValueError("url: the URL contains spaces or control characters; remove them")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"url: not a valid URL ({exc}); {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url: expected an http:// or https:// URL with a host; {example}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "url: the URL carries credentials (user:password@); remove them and send them in "
            "headers = { Authorization = '${WEBHOOK_AUTH}' } instead"
        )
    if parts.fragment:
        raise ValueError("url: remove the fragment ('#...'); it is never sent")


def _secret(value: str | Secret) -> Secret:
    secret = value if isinstance(value, Secret) else Secret(value)
    if not isinstance(secret.reveal(), str):
        raise ValueError("secret: expected a string such as '${WEBHOOK_SECRET}'")
    decode_secret(secret.reveal())
    return secret


def _check_preset(_: Any, __: Any, value: str | None) -> None:
    if value is not None and value not in PRESETS:
        raise ValueError(
            f"preset: {value!r} is not known; use one of: {', '.join(PRESETS)} "
            "(or leave it out for any other endpoint)"
        )


def _headers(value: Mapping[str, str | Secret] | None) -> Mapping[str, Secret]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(
            "headers: expected a table of name = value, e.g. "
            "headers = { x-make-apikey = '${MAKE_WEBHOOK_KEY}' }"
        )
    found: dict[str, Secret] = {}
    for name, raw in value.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValueError(
                f"headers: {name!r} is not a header name; use letters, digits and '-' "
                "(e.g. 'X-Api-Key')"
            )
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(
                f"headers: {name!r} is set by the plugin for every event; remove it from headers"
            )
        if name.lower() in {key.lower() for key in found}:
            raise ValueError(f"headers: {name!r} appears twice (names ignore case); keep one")
        text = raw.reveal() if isinstance(raw, Secret) else raw
        if not isinstance(text, str):
            raise ValueError(f"headers: the value of {name!r} must be a string")
        if any(char in text for char in "\r\n\0"):
            raise ValueError(
                f"headers: the value of {name!r} contains a line break or NUL; remove it"
            )
        found[name] = raw if isinstance(raw, Secret) else Secret(raw)
    return found


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")
    if not (0 < value <= 300 and math.isfinite(value)):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds, 0 < t <= 300")


def _check_bool(_: Any, attribute: attrs.Attribute[Any], value: bool) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{attribute.name}: {value!r} must be true or false")


def _url_repr(value: str) -> str:
    return repr(origin_of(value) + "/...")


@attrs.frozen
class WebhookSettings:
    """One webhook endpoint (the ``webhook`` provider type's keys)."""

    #: the endpoint: http(s), a host, no credentials; its path may be a credential (Zapier, Make)
    url: str = attrs.field(validator=_check_url, repr=_url_repr)
    #: the signing secret, "whsec_" + base64 of 24 to 64 random bytes (Standard Webhooks)
    secret: Secret = attrs.field(converter=_secret)
    #: "make", "zapier", "n8n", or None for any endpoint
    preset: str | None = attrs.field(default=None, validator=_check_preset)
    #: extra headers (e.g. n8n Header Auth, Make's x-make-apikey); values are secrets
    headers: Mapping[str, Secret] = attrs.field(factory=dict, converter=_headers)
    #: seconds allowed for each delivery (connect, send, answer)
    timeout: float = attrs.field(default=10.0, validator=_positive)
    #: deliver to private, loopback and link-local addresses too (off: the SSRF guard)
    allow_private: bool = attrs.field(default=False, validator=_check_bool)

    def __attrs_post_init__(self) -> None:
        host = urlsplit(self.url).hostname or ""
        if not self.platform.accepts(host):
            raise ValueError(
                f"url: {origin_of(self.url)!r} is not a {self.preset} webhook URL, but "
                f"preset = {self.preset!r}; {self.preset} URLs look like "
                f"{self.platform.example!r}: fix the url, or remove the preset"
            )

    @property
    def platform(self) -> Preset:
        """The preset's checks and hints (the generic ones without a preset)."""
        return PRESETS[self.preset] if self.preset else GENERIC
