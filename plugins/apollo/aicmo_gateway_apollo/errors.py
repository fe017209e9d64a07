"""Apollo's error answers to the core's error taxonomy.

Apollo's status codes (docs.apollo.io/reference/status-codes): 401 invalid key; 403 the
endpoint is not open to this key or plan (``error_code: API_INACCESSIBLE``); 422 a
parameter Apollo cannot use; 429 a per-minute, per-hour or per-day limit reached, with
``retry-after`` and the ``x-rate-limit-*`` / ``x-*-requests-left`` headers. Spent credits
are reported with a message about credits (or a 402); they become ``QuotaExhausted``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aicmo_gateway import AuthError, QuotaExhausted, RateLimited
from aicmo_gateway.http import HttpClient, HttpResponse, retry_after_of

__all__ = ["raise_for_apollo", "wait_of"]

_KEY_FIX = (
    "check api_key: create a key in Apollo under Settings > Integrations > API and set "
    "api_key = '${APOLLO_API_KEY}'"
)
_ACCESS_FIX = (
    "give the key access to api/v1/people/match, api/v1/people/bulk_match and "
    "api/v1/organizations/enrich (or make it a master key) in Settings > Integrations > API, "
    "and check that the plan includes API enrichment (Apollo's free plan does not)"
)
_CREDIT_FIX = (
    "the account's Apollo credits are spent; buy credits or wait for the plan's renewal "
    "(Settings > Billing and credits)"
)

#: the exhausted window a header reports, and the longest it can take to reopen
_WINDOWS = (
    (("x-24-hour-requests-left", "x-daily-requests-left"), 86_400.0),
    (("x-hourly-requests-left",), 3_600.0),
    (("x-minute-requests-left",), 60.0),
)
_MESSAGE_WINDOWS = (("per day", 86_400.0), ("per hour", 3_600.0), ("per minute", 60.0))


def _body(response: HttpResponse) -> Mapping[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, Mapping) else {}


def _is_about_credits(body: Mapping[str, Any], detail: str) -> bool:
    code = str(body.get("error_code") or "").lower()
    return "credit" in code or "credit" in detail.lower()


def wait_of(headers: Mapping[str, str], detail: str) -> float | None:
    """Seconds until Apollo takes requests again: ``retry-after`` when sent, else the
    longest exhausted window its headers (or its message) name. Apollo's windows open
    with the first request and are not aligned to the clock, so a window's full length is
    the safe bound."""
    found = retry_after_of(headers)
    if found is not None:
        return found
    lowered = {key.lower(): value.strip() for key, value in headers.items()}
    for names, seconds in _WINDOWS:
        if any(lowered.get(name) == "0" for name in names):
            return seconds
    text = detail.lower()
    for words, seconds in _MESSAGE_WINDOWS:
        if words in text:
            return seconds
    return None


def raise_for_apollo(client: HttpClient, response: HttpResponse) -> None:
    """Raise the error an Apollo answer means (nothing for a 2xx answer)."""
    status = response.status
    if status < 400:
        return
    detail = response.detail()
    body = _body(response)
    provider = client.provider
    if status == 402 or (status in (403, 422, 429) and _is_about_credits(body, detail)):
        raise QuotaExhausted(f"HTTP {status}: {detail}; {_CREDIT_FIX}", provider=provider)
    if status == 401:
        raise AuthError(
            f"HTTP 401: Apollo refused the API key ({detail}); {_KEY_FIX}", provider=provider
        )
    if status == 403:
        raise AuthError(
            f"HTTP 403: this endpoint is not accessible with this key or plan ({detail}); "
            f"{_ACCESS_FIX}",
            provider=provider,
        )
    if status == 429:
        raise RateLimited(
            f"HTTP 429: Apollo's rate limit is reached ({detail})",
            retry_after=wait_of(response.headers, detail),
            provider=provider,
        )
    client.raise_for(response)
