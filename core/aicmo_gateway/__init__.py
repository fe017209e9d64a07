"""aicmo-gateway: one typed API for marketing-automation side effects.

Each capability (sending email, fetching replies, CRM sync, lead enrichment,
address verification, social posting, webhooks) is served by an ordered chain
of interchangeable providers shipped as plugins.
"""

from loguru import logger

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

logger.disable("aicmo_gateway")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

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
