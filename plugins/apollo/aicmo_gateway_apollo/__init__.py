"""aicmo-gateway-apollo: lead enrichment through the Apollo.io API.

The plugin registers the ``apollo`` provider type for the ``lead_enrichment``
capability: people match, bulk match (10 people per request) and organization
enrichment. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_apollo")`` turns it on.
"""

from loguru import logger

logger.disable("aicmo_gateway_apollo")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway-apollo")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
