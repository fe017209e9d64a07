"""aicmo-gateway-airtable: sync contacts and engagements to an Airtable base.

The plugin registers the ``airtable`` provider type for the ``crm_sync``
capability. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_airtable")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_airtable")

__getattr__ = version_getattr(__name__, "aicmo-gateway-airtable")

__all__ = ["__version__"]
