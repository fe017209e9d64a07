"""How the chain reacts to each kind of failure: the classification table and its overrides.

======================  ==========================  =================================
error                   default reaction            health
======================  ==========================  =================================
``InvalidInput``        stop: ``REJECTED``          not the provider's fault
``RateLimited``         fall back                   cool down for ``retry_after``
``QuotaExhausted``      fall back                   cool down until ``reset_at``
``AuthError``           fall back                   cool down (``auth_cooldown``)
``Unavailable``         fall back (or retry)        a failure
``Ambiguous``/timeout   reads: fall back;           a failure
                        writes: stop ``UNCERTAIN``
                        unless the next provider
                        honours idempotency keys
anything else           fall back                   a failure
======================  ==========================  =================================

The reaction can be changed per capability and per provider with an
``on_error`` table mapping an error class name to ``fallback``, ``retry``
(try the same provider again, within the budgets) or ``stop``. Invalid input
always stops: another provider would reject it too.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime

import attrs

from aicmo_gateway.errors import (
    Ambiguous,
    AuthError,
    InvalidInput,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)

__all__ = ["ERROR_NAMES", "Kind", "Reaction", "Verdict", "classify"]


class Kind(enum.StrEnum):
    REJECTED = "rejected"  # bad input
    RATE_LIMITED = "rate_limited"
    QUOTA = "quota"
    AUTH = "auth"
    NOT_PERFORMED = "not_performed"  # Unavailable: definitely not done
    AMBIGUOUS = "ambiguous"  # may have been done
    FAILURE = "failure"  # unclassified exception


class Reaction(enum.StrEnum):
    FALLBACK = "fallback"
    RETRY = "retry"
    STOP = "stop"


#: error names accepted in ``on_error`` tables
ERROR_NAMES = (
    "RateLimited",
    "QuotaExhausted",
    "AuthError",
    "Unavailable",
    "Ambiguous",
    "TimeoutError",
    "Exception",
)


@attrs.frozen
class Verdict:
    """What one failed attempt means."""

    kind: Kind
    reaction: Reaction
    #: count against the provider's breaker
    is_failure: bool
    #: cool the provider down for this long (seconds), for every caller
    cooldown: float | None = None


def _name(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        if cls.__name__ in ERROR_NAMES:
            return cls.__name__
    return "Exception"


def classify(
    exc: BaseException,
    *,
    overrides: Mapping[str, Reaction] | None = None,
    auth_cooldown: float = 300.0,
    rate_limit_cooldown: float = 30.0,
    now: datetime | None = None,
) -> Verdict:
    """Classify an attempt's exception; ``overrides`` change the reaction per error name."""
    if isinstance(exc, InvalidInput):
        verdict = Verdict(Kind.REJECTED, Reaction.STOP, is_failure=False)
    elif isinstance(exc, RateLimited):
        wait = exc.retry_after if exc.retry_after is not None else rate_limit_cooldown
        verdict = Verdict(Kind.RATE_LIMITED, Reaction.FALLBACK, False, max(0.0, wait))
    elif isinstance(exc, QuotaExhausted):
        wait = rate_limit_cooldown
        if exc.reset_at is not None:
            current = now or datetime.now(UTC)
            wait = max(0.0, (exc.reset_at - current).total_seconds())
        verdict = Verdict(Kind.QUOTA, Reaction.FALLBACK, False, wait)
    elif isinstance(exc, AuthError):
        verdict = Verdict(Kind.AUTH, Reaction.FALLBACK, True, auth_cooldown)
    elif isinstance(exc, Unavailable):
        verdict = Verdict(Kind.NOT_PERFORMED, Reaction.FALLBACK, True)
    elif isinstance(exc, Ambiguous | TimeoutError) or (
        isinstance(exc, ProviderError) and exc.performed is None
    ):
        verdict = Verdict(Kind.AMBIGUOUS, Reaction.FALLBACK, True)
    elif isinstance(exc, ProviderError):
        verdict = Verdict(Kind.NOT_PERFORMED, Reaction.FALLBACK, True)
    else:
        verdict = Verdict(Kind.FAILURE, Reaction.FALLBACK, True)
    if overrides and verdict.kind is not Kind.REJECTED:
        for cls in type(exc).__mro__:
            if cls.__name__ in overrides and cls.__name__ != "Exception":
                return attrs.evolve(verdict, reaction=overrides[cls.__name__])
        if "Exception" in overrides and _name(exc) == "Exception":
            return attrs.evolve(verdict, reaction=overrides["Exception"])
    return verdict
