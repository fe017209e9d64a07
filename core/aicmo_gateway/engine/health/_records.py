"""The records ``ProviderHealth`` hands out: permits and its one error (states and snapshots
live in :mod:`aicmo_gateway.state.health`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aicmo_gateway.errors import GatewayError
from aicmo_gateway.state.health import BreakerState, Health, HealthSnapshot

if TYPE_CHECKING:
    from aicmo_gateway.engine.health._breaker import ProviderHealth

__all__ = ["BreakerState", "Health", "HealthSnapshot", "Permit", "PermitError"]


class PermitError(GatewayError, RuntimeError):
    """A permit was recorded after it was settled, or given to a health that did not issue it."""


class Permit(NamedTuple):
    """Leave to make one attempt; settle it with ``record`` or ``release``, exactly once.

    A named tuple (immutable, fields by name): one is issued for every attempt, so it is
    kept as cheap to build as a record can be.
    """

    serial: int
    #: a half-open probe: its result decides whether the breaker closes
    probe: bool
    #: the breaker phase that issued it (a result from an older phase is late)
    generation: int
    issued_at: float
    owner: ProviderHealth
    #: issued past a breaker open only for slow calls, because no other provider could serve
    last_resort: bool = False
