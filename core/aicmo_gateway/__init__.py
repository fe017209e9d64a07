"""aicmo-gateway: one typed API for marketing-automation side effects.

Each capability (sending email, fetching replies, CRM sync, lead enrichment,
address verification, social posting, webhooks) is served by an ordered chain
of interchangeable providers shipped as plugins.

Importing the package is cheap: each public name is imported from its module
the first time it is used (PEP 562), so ``import aicmo_gateway`` loads neither
asyncio, the engine, the configuration builder, loguru nor any plugin.
"""

from __future__ import annotations

import sys

from aicmo_gateway._silence import silence_loguru

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
silence_loguru("aicmo_gateway")

#: public name -> the module that defines it
_HOME = {
    **dict.fromkeys(
        ("BreakerState", "Health", "HealthPolicy", "HealthSnapshot"), "aicmo_gateway.engine.health"
    ),
    **dict.fromkeys(
        (
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
        "aicmo_gateway.errors",
    ),
    **dict.fromkeys(("CheckResult", "Gateway"), "aicmo_gateway.gateway"),
    **dict.fromkeys(
        ("Action", "Attempt", "CallRecord", "Outcome", "OutcomeError", "Status"),
        "aicmo_gateway.outcome",
    ),
    "hookimpl": "aicmo_gateway.plugins.hookspecs",
    **dict.fromkeys(
        ("Idempotency", "ProviderType", "Quota", "RateLimit"),
        "aicmo_gateway.plugins.provider_type",
    ),
    "Registry": "aicmo_gateway.plugins.registry",
    "Secret": "aicmo_gateway.secret",
    "SyncGateway": "aicmo_gateway.sync",
}

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


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aicmo-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _installed_version()
    elif name in _HOME:
        import importlib

        value = getattr(importlib.import_module(_HOME[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    setattr(sys.modules[__name__], name, value)  # the next look-up skips this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
