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
from aicmo_gateway.outcome import Action, Status

__all__ = ["ERROR_NAMES", "REACTIONS", "Classification", "classify"]

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
#: what an ``on_error`` table may ask for: the actions that follow a failed attempt
REACTIONS = (Action.FALLBACK, Action.RETRY, Action.STOP)


@attrs.frozen
class Classification:
    """What one failed attempt means, in the words of :class:`Status` and :class:`Action`."""

    #: what the error says about the operation: ``REJECTED`` (bad input, not performed),
    #: ``UNCERTAIN`` (it may have been performed) or ``FAILED`` (it was not performed)
    status: Status
    #: what the chain does next by default: ``FALLBACK``, ``RETRY`` or ``STOP``
    action: Action
    #: count against the provider's breaker
    is_failure: bool
    #: cool the provider down for this long (seconds), for every caller
    cooldown: float | None = None


_REJECTED = Classification(Status.REJECTED, Action.STOP, is_failure=False)
_NOT_PERFORMED = Classification(Status.FAILED, Action.FALLBACK, is_failure=True)
_AMBIGUOUS = Classification(Status.UNCERTAIN, Action.FALLBACK, is_failure=True)


def _name(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        if cls.__name__ in ERROR_NAMES:
            return cls.__name__
    return "Exception"


def classify(
    exc: BaseException,
    *,
    overrides: Mapping[str, Action] | None = None,
    auth_cooldown: float = 300.0,
    rate_limit_cooldown: float = 30.0,
    now: datetime | None = None,
) -> Classification:
    """Classify an attempt's exception; ``overrides`` change the action per error name."""
    if isinstance(exc, InvalidInput):
        return _REJECTED  # another provider would reject it too: never overridden
    if isinstance(exc, RateLimited):
        wait = exc.retry_after if exc.retry_after is not None else rate_limit_cooldown
        found = Classification(Status.FAILED, Action.FALLBACK, False, max(0.0, wait))
    elif isinstance(exc, QuotaExhausted):
        wait = rate_limit_cooldown
        if exc.reset_at is not None:
            current = now or datetime.now(UTC)
            wait = max(0.0, (exc.reset_at - current).total_seconds())
        found = Classification(Status.FAILED, Action.FALLBACK, False, wait)
    elif isinstance(exc, AuthError):
        found = Classification(Status.FAILED, Action.FALLBACK, True, auth_cooldown)
    elif isinstance(exc, Unavailable):
        found = _NOT_PERFORMED
    elif isinstance(exc, Ambiguous | TimeoutError) or (
        isinstance(exc, ProviderError) and exc.performed is None
    ):
        found = _AMBIGUOUS
    else:  # a ProviderError that says it did not perform, or any other exception
        found = _NOT_PERFORMED
    if overrides:
        for cls in type(exc).__mro__:
            if cls.__name__ in overrides and cls.__name__ != "Exception":
                return attrs.evolve(found, action=overrides[cls.__name__])
        if "Exception" in overrides and _name(exc) == "Exception":
            return attrs.evolve(found, action=overrides["Exception"])
    return found
