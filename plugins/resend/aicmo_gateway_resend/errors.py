"""Resend's error answers as the core's errors.

Resend answers errors as ``{"statusCode": 422, "name": "validation_error", "message": "..."}``
(api-reference/errors). The ``name`` decides first, the status second:

==================================  ======  ==============================================
name                                status  raised
==================================  ======  ==============================================
rate_limit_exceeded                 429     ``RateLimited`` (``retry-after`` / ``ratelimit-reset``)
daily_quota_exceeded                429     ``QuotaExhausted`` (reset: the wait, else in 1 hour)
monthly_quota_exceeded              429     ``QuotaExhausted`` (reset: the next month)
missing_api_key, invalid_api_key,   401,    ``AuthError``
restricted_api_key, "API key is     403,
invalid" (validation_error)         400
invalid_from_address, unverified    403     ``AuthError``: this account may not send it;
domain, testing-only account                another provider may
invalid_idempotent_request          409     ``InvalidInput``: the key was used for another
                                            message (REJECTED, nothing sent)
concurrent_idempotent_requests      409     ``Ambiguous``: the first request with this key
                                            is still running and may send
validation_error,                   400,    ``InvalidInput``
missing_required_field,             422
invalid_idempotency_key,
invalid_attachment, ...
not_found, method_not_allowed       404,    ``AuthError``: check ``base_url``
                                    405
application_error, ...              5xx     the HTTP layer's rule: ``Ambiguous`` after a send
==================================  ======  ==============================================
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aicmo_gateway import Ambiguous, AuthError, InvalidInput, QuotaExhausted, RateLimited
from aicmo_gateway.errors import ProviderError
from aicmo_gateway.http import (
    HttpClient,
    HttpResponse,
    error_for_status,
    parse_retry_after,
    retry_after_of,
)

__all__ = ["AUTH_NAMES", "QUOTA_NAMES", "error_body", "raise_for"]

AUTH_NAMES = frozenset({"missing_api_key", "invalid_api_key", "restricted_api_key"})
QUOTA_NAMES = frozenset({"daily_quota_exceeded", "monthly_quota_exceeded"})
_INPUT_STATUSES = frozenset({400, 413, 422})


def error_body(response: HttpResponse) -> tuple[str, str]:
    """``(name, message)`` of an error answer; empty strings when the body is not Resend's."""
    try:
        body: Any = response.json()
    except ProviderError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    name, message = body.get("name"), body.get("message")
    return (name if isinstance(name, str) else ""), (message if isinstance(message, str) else "")


def _next_month(now: datetime) -> datetime:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def raise_for(response: HttpResponse, client: HttpClient, *, now: datetime | None = None) -> None:
    """Raise the error a non-2xx ``response`` means; return for a 2xx answer."""
    status = response.status
    if status < 300:
        return
    name, message = error_body(response)
    said = f"{name}: {message}" if name else message
    text = client.scrub(" ".join("".join(c if c.isprintable() else " " for c in said).split()))
    text = text[:300]
    where = f"resend: HTTP {status}" + (f" {text}" if text else "")
    provider = client.provider
    # Resend sends its rate-limit headers on every answer: ratelimit-reset is the request
    # window's, so only a 429 for the rate limit reads it; anything else needs retry-after
    asked = parse_retry_after(_header(response, "retry-after"))
    if status == 429:
        wait = retry_after_of(response.headers) if name not in QUOTA_NAMES else asked
        current = now or datetime.now(UTC)
        if name == "daily_quota_exceeded":
            reset = current + timedelta(seconds=wait if wait is not None else 3600.0)
            raise QuotaExhausted(
                where + "; Resend's free plan sends 100 emails a day: wait, or upgrade and set "
                "plan = 'paid'",
                reset_at=reset,
                provider=provider,
            )
        if name == "monthly_quota_exceeded":
            reset = current + timedelta(seconds=wait) if wait is not None else _next_month(current)
            raise QuotaExhausted(
                where + "; the plan's monthly quota is spent", reset_at=reset, provider=provider
            )
        raise RateLimited(where, retry_after=wait, provider=provider)
    if status == 409:
        if name == "concurrent_idempotent_requests":
            raise Ambiguous(
                where + "; an earlier request with this idempotency key is still in progress "
                "and may send the message",
                provider=provider,
            )
        raise InvalidInput(
            where + "; this idempotency key was already used for a different message: use a "
            "new key for a new message",
            provider=provider,
        )
    api_key_refused = name == "validation_error" and "api key" in message.lower()
    if name in AUTH_NAMES or api_key_refused or status in (401, 403):
        raise AuthError(
            where + "; check the api_key, and that the sender's domain is verified in Resend",
            provider=provider,
        )
    if status in _INPUT_STATUSES:
        raise InvalidInput(where, provider=provider)
    if status in (404, 405):
        raise AuthError(
            where + "; the endpoint does not exist there: check the provider's base_url",
            provider=provider,
        )
    detail = f"resend: {text}" if text else "resend"
    error = error_for_status(
        status, detail, write=response.write, retry_after=asked, provider=provider
    )
    if error is None:  # a 3xx: redirects are not followed
        client.raise_for(response)
        return
    raise error


def _header(response: HttpResponse, name: str) -> str | None:
    for key, value in response.headers.items():
        if key.lower() == name:
            return value
    return None
