"""XRPC error answers as the core's errors.

An XRPC error is ``{"error": "Name", "message": "..."}`` (atproto.com/specs/xrpc#error-responses).
From the lexicons and the reference PDS (github.com/bluesky-social/atproto ``packages/pds``) and
docs.bsky.app ``advanced-guides/rate-limits``:

===========================================  =====  ===========================================
error                                        HTTP   raised
===========================================  =====  ===========================================
ExpiredToken (access JWT too old)            400    refreshed by the session, then retried
InvalidToken, AuthenticationRequired,        400,   ``AuthError``: check identifier and
AccountTakedown, AuthFactorTokenRequired     401,   app_password
                                             403
RateLimitExceeded (``ratelimit-reset`` is a  429    ``RateLimited`` with the wait until then
Unix time)
InvalidRequest, InvalidSwap, BlobTooLarge,   400,   ``InvalidInput``: REJECTED
RecordNotFound, ...                          413
InternalServerError, UpstreamFailure, ...    5xx    the HTTP layer's rule: ``Ambiguous`` after
                                                    a write
===========================================  =====  ===========================================
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import AuthError, InvalidInput, RateLimited
from aicmo_gateway.errors import ProviderError
from aicmo_gateway.http import HttpClient, HttpResponse, error_for_status, retry_after_of

__all__ = ["AUTH_ERRORS", "error_name", "raise_for"]

AUTH_ERRORS = frozenset(
    {
        "InvalidToken",
        "AuthenticationRequired",
        "AccountTakedown",
        "AuthFactorTokenRequired",
        "AccountDeactivated",
    }
)


def error_name(response: HttpResponse) -> str:
    """The XRPC error name of an answer ("" when it has none)."""
    if response.status < 400:
        return ""
    try:
        body: Any = response.json()
    except ProviderError:
        return ""
    name = body.get("error") if isinstance(body, dict) else None
    return name if isinstance(name, str) else ""


def _message(response: HttpResponse, client: HttpClient) -> str:
    try:
        body: Any = response.json()
    except ProviderError:
        return response.detail()
    if not isinstance(body, dict):
        return response.detail()
    parts = [body.get("error"), body.get("message")]
    text = ": ".join(p for p in parts if isinstance(p, str) and p)
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return client.scrub(cleaned)[:300]


def raise_for(response: HttpResponse, client: HttpClient, *, what: str) -> None:
    """Raise the error a non-2xx ``response`` to ``what`` means; return for a 2xx answer."""
    status = response.status
    if status < 300:
        return
    name = error_name(response)
    detail = _message(response, client)
    where = f"bluesky: {what}: HTTP {status}" + (f": {detail}" if detail else "")
    provider = client.provider
    if status == 429 or name == "RateLimitExceeded":
        raise RateLimited(where, retry_after=retry_after_of(response.headers), provider=provider)
    if name in AUTH_ERRORS or status in (401, 403):
        raise AuthError(
            where + "; check identifier and app_password (an app password, not the account "
            "password: accounts with two-factor email sign-in need one)",
            provider=provider,
        )
    if status in (400, 413) and name != "ExpiredToken":
        raise InvalidInput(where, provider=provider)
    if status == 404:
        raise AuthError(
            where + "; the method does not exist there: check the provider's service URL",
            provider=provider,
        )
    if status < 400:  # a redirect: not followed
        client.raise_for(response)
        return
    error = error_for_status(
        status,
        f"{detail} (bluesky: {what})",
        write=response.write,
        retry_after=retry_after_of(response.headers),
        provider=provider,
    )
    if error is not None:
        raise error
