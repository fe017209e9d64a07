"""Per-provider health: the circuit breaker the chain consults before each attempt.

One :class:`ProviderHealth` per configured provider instance, configured by a
:class:`HealthPolicy`. The chain calls ``acquire`` before an attempt and settles
the :class:`Permit` with ``record`` or ``release``; ``aicmo-gateway status`` shows
a :class:`HealthSnapshot`. The rules are documented in
:mod:`aicmo_gateway.engine.health._breaker` (the breaker and :class:`Health`) and on
:class:`HealthPolicy` (what zero and ``None`` mean for each setting).

This package imports only :mod:`aicmo_gateway.errors`.
"""

from aicmo_gateway.engine.health._breaker import ProviderHealth
from aicmo_gateway.engine.health._policy import HealthPolicy
from aicmo_gateway.engine.health._records import (
    BreakerState,
    Health,
    HealthSnapshot,
    Permit,
    PermitError,
)

__all__ = [
    "BreakerState",
    "Health",
    "HealthPolicy",
    "HealthSnapshot",
    "Permit",
    "PermitError",
    "ProviderHealth",
]
