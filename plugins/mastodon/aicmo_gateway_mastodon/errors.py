"""Mastodon's error answers as the core's errors.

Mastodon answers errors as ``{"error": "..."}`` (api/entities/Error). Statuses from
docs.joinmastodon.org/methods/statuses#create, methods/media and api/rate-limits:

======  =============================================  =========================================
status  meaning                                        raised
======  =============================================  =========================================
401     "The access token is invalid"                  ``AuthError``: fix the access_token
403     "This action is outside the authorized         ``AuthError``: the token lacks a scope,
        scopes", account suspended                     or the account may not post
404     the post ``in_reply_to`` names is gone         ``InvalidInput`` (with a reply); else
                                                       ``AuthError``: check instance_url
422     "Validation failed: Text character limit of    ``InvalidInput``: REJECTED
        500 exceeded", unprocessed media, ...
429     rate limited: ``X-RateLimit-Reset`` is an      ``RateLimited`` with the wait until then
        ISO 8601 time stamp
5xx     after the status was sent                      the HTTP layer's rule: ``Ambiguous``
======  =============================================  =========================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from aicmo_gateway import AuthError, InvalidInput, RateLimited
from aicmo_gateway.http import HttpClient, HttpResponse, retry_after_of

__all__ = ["raise_for", "reset_wait"]

#: the longest wait taken from a reset header (Mastodon's windows are 5 to 30 minutes)
MAX_RESET_WAIT = 3600.0


def reset_wait(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (an ISO 8601 time stamp), else ``Retry-After``."""
    lowered = {key.lower(): value for key, value in headers.items()}
    raw = lowered.get("x-ratelimit-reset", "").strip()
    if raw and not raw.replace(".", "", 1).isdigit():
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - (now or datetime.now(UTC))).total_seconds()
            return min(max(seconds, 0.0), MAX_RESET_WAIT)
    return retry_after_of(headers, now=now)


def raise_for(response: HttpResponse, client: HttpClient, *, replying: bool = False) -> None:
    """Raise the error a non-2xx ``response`` means; return for a 2xx answer."""
    status = response.status
    if status < 300:
        return
    detail = response.detail()
    where = f"mastodon: HTTP {status}" + (f" {detail}" if detail else "")
    provider = client.provider
    if status == 429:
        raise RateLimited(
            where + "; the account's rate limit is spent",
            retry_after=reset_wait(response.headers),
            provider=provider,
        )
    if status == 401:
        raise AuthError(where + "; check the access_token", provider=provider)
    if status == 403:
        raise AuthError(
            where + "; the token needs the write:statuses and write:media scopes, and the "
            "account must be allowed to post",
            provider=provider,
        )
    if status == 404 and replying:
        raise InvalidInput(
            where + "; the post this one answers (in_reply_to) was not found on this instance",
            field="SocialPost.in_reply_to",
            provider=provider,
        )
    if status == 404:
        raise AuthError(
            where + "; the endpoint does not exist there: check the provider's instance_url",
            provider=provider,
        )
    if status == 422:
        raise InvalidInput(where, provider=provider)
    client.raise_for(response)
