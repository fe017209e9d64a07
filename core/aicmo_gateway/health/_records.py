"""The records ``ProviderHealth`` hands out: states, permits, snapshots, and its one error."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from aicmo_gateway.errors import GatewayError

if TYPE_CHECKING:
    from aicmo_gateway.health._breaker import ProviderHealth

__all__ = ["BreakerState", "Health", "HealthSnapshot", "Permit", "PermitError"]


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


class PermitError(GatewayError, RuntimeError):
    """A permit was recorded after it was settled, or given to a health that did not issue it."""


@attrs.frozen
class Permit:
    """Leave to make one attempt; settle it with ``record`` or ``release``, exactly once."""

    serial: int
    #: a half-open probe: its result decides whether the breaker closes
    probe: bool
    #: the breaker phase that issued it (a result from an older phase is late)
    generation: int
    issued_at: float
    owner: ProviderHealth = attrs.field(repr=False, eq=False)
    #: issued past a breaker open only for slow calls, because no other provider could serve
    last_resort: bool = False


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
