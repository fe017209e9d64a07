"""Airtable's error answers as the core's errors.

Airtable answers errors as ``{"error": {"type": "...", "message": "..."}}`` (or
``{"error": "NOT_FOUND"}``), per the Web API's "Errors" page:

======  ==============================================  =====================================
status  type                                            raised
======  ==============================================  =====================================
401     AUTHENTICATION_REQUIRED                         ``AuthError``
402     PUBLIC_API_BILLING_LIMIT_EXCEEDED               ``QuotaExhausted`` until next month
403     INVALID_PERMISSIONS(_OR_MODEL_NOT_FOUND)        ``AuthError``: the token's scopes/base
404     NOT_FOUND, TABLE_NOT_FOUND, MODEL_ID_NOT_FOUND  ``AuthError``: base_id, table, base_url
413     request too large                               ``InvalidInput``
422     UNKNOWN_FIELD_NAME, INVALID_VALUE_FOR_COLUMN,   ``AuthError``: the column mapping or
        INVALID_MULTIPLE_CHOICE_OPTIONS, ...            types do not fit this table
400,    INVALID_REQUEST_*, other                        ``InvalidInput``
422
429     RATE_LIMIT_REACHED                              ``RateLimited``: ``Retry-After``, else
                                                        Airtable's documented 30 seconds
5xx                                                     the HTTP layer's rule (``Ambiguous``
                                                        after a write)
======  ==============================================  =====================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aicmo_gateway import AuthError, InvalidInput, QuotaExhausted, RateLimited
from aicmo_gateway.errors import ProviderError
from aicmo_gateway.http import HttpClient, HttpResponse, parse_retry_after

__all__ = ["LOCKOUT_SECONDS", "raise_for"]

#: Airtable: "you will receive a 429 status code and will need to wait 30 seconds"
LOCKOUT_SECONDS = 30.0
_SCHEMA_TYPES = frozenset(
    {
        "UNKNOWN_FIELD_NAME",
        "INVALID_VALUE_FOR_COLUMN",
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        "CANNOT_UPDATE_COMPUTED_FIELD",
        "INVALID_FIELD_TYPE",
    }
)


def error_of(response: HttpResponse) -> tuple[str, str]:
    """``(type, message)`` of an error answer; empty strings when the body is not Airtable's."""
    try:
        body: Any = response.json()
    except ProviderError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error, ""
    if isinstance(error, dict):
        kind, message = error.get("type"), error.get("message")
        return (kind if isinstance(kind, str) else ""), (
            message if isinstance(message, str) else ""
        )
    return "", ""


def _next_month(now: datetime) -> datetime:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def raise_for(response: HttpResponse, client: HttpClient, *, now: datetime | None = None) -> None:
    """Raise the error a non-2xx ``response`` means; return for a 2xx answer."""
    status = response.status
    if status < 300:
        return
    kind, message = error_of(response)
    said = f"{kind}: {message}" if kind and message else kind or message
    said = " ".join("".join(c if c.isprintable() else " " for c in said).split())
    text = client.scrub(said)[:300]
    where = f"airtable: HTTP {status}" + (f" {text}" if text else "")
    provider = client.provider
    if status == 429:
        wait = parse_retry_after(_header(response, "retry-after"))
        raise RateLimited(
            where + "; Airtable allows 5 requests per second per base",
            retry_after=LOCKOUT_SECONDS if wait is None else wait,
            provider=provider,
        )
    if status == 402:
        raise QuotaExhausted(
            where + "; the workspace's monthly API calls are spent (upgrade the plan, or wait "
            "for the next month)",
            reset_at=_next_month(now or datetime.now(UTC)),
            provider=provider,
        )
    if status in (401, 403):
        raise AuthError(
            where + "; check the api_key, its scopes (data.records:read, data.records:write) "
            "and that the token has access to this base",
            provider=provider,
        )
    if status == 404:
        raise AuthError(
            where + "; check base_id, table, engagements_table and base_url", provider=provider
        )
    if status == 422 and kind in _SCHEMA_TYPES:
        raise AuthError(
            where + "; the table's columns do not fit: check fields / engagement_fields, the "
            "column types, or set typecast = true",
            provider=provider,
        )
    if status in (400, 413, 422):
        raise InvalidInput(where, provider=provider)
    client.raise_for(response)


def _header(response: HttpResponse, name: str) -> str | None:
    for key, value in response.headers.items():
        if key.lower() == name:
            return value
    return None
