"""What an HTTP answer means for the chain: statuses to errors, and ``Retry-After``.

======================  =====================================  ==============================
status                  reads                                  writes
======================  =====================================  ==============================
400, 413, 414, 422      ``InvalidInput`` (stop: REJECTED)      the same
401, 403                ``AuthError`` (cool down)              the same
404, 410                ``AuthError``: a wrong base URL, id    the same
                        or table is configuration
408, 409, 425, other    ``Unavailable`` (fall back)            the same
4xx
429                     ``RateLimited`` with ``Retry-After``   the same
500, 502, 504, other    ``Unavailable``                        ``Ambiguous``: the service may
5xx                                                            have done it before failing
503                     ``Unavailable`` (``RateLimited`` when  the same: the service refused
                        it carries ``Retry-After``)            the work before doing it
======================  =====================================  ==============================

Adapters refine this for their vendor (a 403 that means "no credits left" is
``QuotaExhausted``) by checking the status before calling :func:`error_for_status`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aicmo_gateway.errors import (
    Ambiguous,
    AuthError,
    InvalidInput,
    ProviderError,
    RateLimited,
    Unavailable,
)

__all__ = ["error_for_status", "parse_retry_after", "retry_after_of"]

#: the longest wait a server may ask for; longer answers are capped (a day)
MAX_RETRY_AFTER = 86_400.0

_INPUT = frozenset({400, 413, 414, 422})
_CONFIG = frozenset({401, 403, 404, 410})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date (RFC 9110).

    Returns None for a missing or unreadable value, 0 for a date in the past, and at most
    :data:`MAX_RETRY_AFTER`. Fractional seconds (sent by some APIs) are accepted.
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def retry_after_of(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The wait a response asks for: ``Retry-After``, else a rate-limit reset header.

    The reset headers (``RateLimit-Reset``, ``X-RateLimit-Reset``) are read as seconds from now
    when small, and as a Unix time when they look like one.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    found = parse_retry_after(lowered.get("retry-after"), now=now)
    if found is not None:
        return found
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        raw = lowered.get(name)
        if raw is None:
            continue
        try:
            number = float(raw.strip())
        except ValueError:
            continue
        if not math.isfinite(number) or number < 0:
            continue
        if number > 1_000_000_000:  # a Unix time stamp
            reference = (now or datetime.now(UTC)).timestamp()
            number = number - reference
        return min(max(number, 0.0), MAX_RETRY_AFTER)
    return None


def error_for_status(
    status: int,
    detail: str,
    *,
    write: bool,
    retry_after: float | None = None,
    provider: str | None = None,
) -> ProviderError | None:
    """The error an HTTP status means, or None for a 1xx/2xx/3xx answer.

    ``detail`` is the text to put in the error (already free of secrets); ``write`` says
    whether the request had a side effect, which makes a 5xx ambiguous.
    """
    if status < 400:
        return None
    message = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
    if status == 429:
        return RateLimited(message, retry_after=retry_after, provider=provider)
    if status in _INPUT:
        return InvalidInput(message, provider=provider)
    if status in _CONFIG:
        return AuthError(message, provider=provider)
    if status == 503:
        if retry_after is not None:
            return RateLimited(message, retry_after=retry_after, provider=provider)
        return Unavailable(message, provider=provider)
    if status >= 500 and write:
        return Ambiguous(
            f"{message} (the service may have performed the write before failing)",
            provider=provider,
        )
    return Unavailable(message, provider=provider)
