"""The health records the state files hold and ``status`` shows: breaker states and snapshots.

They live in the state layer so that both the engine (which makes them) and the state files
(which store and read them) can import them.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["BreakerState", "Health", "HealthSnapshot"]


class BreakerState(enum.StrEnum):
    """The circuit breaker's state."""

    CLOSED = "closed"  # calls flow
    OPEN = "open"  # calls refused until the open deadline
    HALF_OPEN = "half_open"  # a bounded number of probes decide


class Health(enum.StrEnum):
    """What ``aicmo-gateway status`` shows for a provider (see the module docstring)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@attrs.frozen
class HealthSnapshot:
    """One provider's health at clock time ``at``, for ``aicmo-gateway status``."""

    at: float
    health: Health
    state: BreakerState
    #: why the provider is not healthy, in words (``None`` when it is)
    reason: str | None
    #: clock time the open period ends (``None`` unless ``OPEN``)
    open_until: float | None
    #: clock time the cooldown ends (``None`` when not cooling down)
    cooldown_until: float | None
    #: calls in the window, and the shares that failed and were slow
    calls: int
    failure_rate: float
    slow_rate: float
    #: failures in a row (slow calls included)
    consecutive_failures: int
    #: exponentially weighted mean attempt duration, seconds (``None`` before any result)
    ewma_latency: float | None
    #: trips not yet forgiven; the next trip stays open ``policy.open_period(trips + 1)``
    trips: int
    #: permits handed out and not yet settled
    in_flight: int
    #: open (or half-open) after slow calls only: tried last instead of refused
    demoted: bool = False
