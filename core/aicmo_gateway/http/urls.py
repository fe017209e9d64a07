"""``check_base_url``: the one validator for an adapter's ``base_url`` setting."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

__all__ = ["check_base_url"]


def check_base_url(_: Any, attribute: Any, value: str) -> None:
    """An attrs validator: an absolute http(s) URL with a host, no credentials, query or fragment.

    Raises ``ValueError`` naming the key and the fix, which the core reports as a configuration
    error. Credentials belong in the adapter's secret keys, never in a URL that gets printed.
    """
    name = getattr(attribute, "name", "base_url")
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a URL such as 'https://api.example.com'")
    if any(ord(char) < 0x20 or char == "\x7f" or char.isspace() for char in value):
        raise ValueError(f"{name}: the URL contains spaces or control characters; remove them")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        example = "write e.g. 'https://api.example.com'"
        raise ValueError(f"{name}: not a valid URL ({exc}); {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{name}: expected an http:// or https:// URL with a host, e.g. 'https://api.example.com'"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"{name}: the URL carries credentials; remove them from the URL and set the "
            "provider's api_key (or token) key instead"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"{name}: remove the query or fragment ('?...', '#...') from the URL")
