"""aicmo-gateway: one typed API for marketing-automation side effects.

Each capability (sending email, fetching replies, CRM sync, lead enrichment,
address verification, social posting, webhooks) is served by an ordered chain
of interchangeable providers shipped as plugins.

Importing the package is cheap: each public name is imported from its module
the first time it is used (PEP 562), so ``import aicmo_gateway`` loads neither
asyncio, the engine, the configuration builder, loguru nor any plugin.
"""

from __future__ import annotations

from aicmo_gateway.lazy import attach, version_getattr
from aicmo_gateway.logs import silence

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from typing import Any

    from aicmo_gateway.engine.health import BreakerState, Health, HealthPolicy, HealthSnapshot
    from aicmo_gateway.errors import (
        Ambiguous,
        AuthError,
        ConfigError,
        GatewayClosed,
        GatewayError,
        InvalidInput,
        NotConfigured,
        PluginError,
        ProviderError,
        QuotaExhausted,
        RateLimited,
        Unavailable,
        UnknownProviderType,
    )
    from aicmo_gateway.gateway import CheckResult, Gateway
    from aicmo_gateway.outcome import Action, Attempt, CallRecord, Outcome, OutcomeError, Status
    from aicmo_gateway.plugins.hookspecs import hookimpl
    from aicmo_gateway.plugins.provider_type import Idempotency, ProviderType, Quota, RateLimit
    from aicmo_gateway.plugins.registry import Registry
    from aicmo_gateway.secret import Secret
    from aicmo_gateway.sync import SyncGateway

    __version__: str

# the package logs through loguru and is silent until the application enables it
silence("aicmo_gateway")

_getattr, _ = attach(
    __name__,
    {
        "aicmo_gateway.engine.health": ("BreakerState", "Health", "HealthPolicy", "HealthSnapshot"),
        "aicmo_gateway.errors": (
            "Ambiguous",
            "AuthError",
            "ConfigError",
            "GatewayClosed",
            "GatewayError",
            "InvalidInput",
            "NotConfigured",
            "PluginError",
            "ProviderError",
            "QuotaExhausted",
            "RateLimited",
            "Unavailable",
            "UnknownProviderType",
        ),
        "aicmo_gateway.gateway": ("CheckResult", "Gateway"),
        "aicmo_gateway.outcome": (
            "Action",
            "Attempt",
            "CallRecord",
            "Outcome",
            "OutcomeError",
            "Status",
        ),
        "aicmo_gateway.plugins.hookspecs": ("hookimpl",),
        "aicmo_gateway.plugins.provider_type": (
            "Idempotency",
            "ProviderType",
            "Quota",
            "RateLimit",
        ),
        "aicmo_gateway.plugins.registry": ("Registry",),
        "aicmo_gateway.secret": ("Secret",),
        "aicmo_gateway.sync": ("SyncGateway",),
    },
)

__all__ = [
    "Action",
    "Ambiguous",
    "Attempt",
    "AuthError",
    "BreakerState",
    "CallRecord",
    "CheckResult",
    "ConfigError",
    "Gateway",
    "GatewayClosed",
    "GatewayError",
    "Health",
    "HealthPolicy",
    "HealthSnapshot",
    "Idempotency",
    "InvalidInput",
    "NotConfigured",
    "Outcome",
    "OutcomeError",
    "PluginError",
    "ProviderError",
    "ProviderType",
    "Quota",
    "QuotaExhausted",
    "RateLimit",
    "RateLimited",
    "Registry",
    "Secret",
    "Status",
    "SyncGateway",
    "Unavailable",
    "UnknownProviderType",
    "__version__",
    "hookimpl",
]


_version = version_getattr(__name__, "aicmo-gateway")


def __getattr__(name: str) -> Any:
    return _version(name) if name == "__version__" else _getattr(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
