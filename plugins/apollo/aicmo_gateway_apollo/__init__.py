"""aicmo-gateway-apollo: lead enrichment through the Apollo.io API.

The plugin registers the ``apollo`` provider type for the ``lead_enrichment``
capability: people match, bulk match (10 people per request) and organization
enrichment. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_apollo")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_apollo")

__getattr__ = version_getattr(__name__, "aicmo-gateway-apollo")

__all__ = ["__version__"]
