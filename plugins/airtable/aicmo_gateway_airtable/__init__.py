"""aicmo-gateway-airtable: sync contacts and engagements to an Airtable base.

The plugin registers the ``airtable`` provider type for the ``crm_sync``
capability. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_airtable")`` turns it on.
"""

from loguru import logger

logger.disable("aicmo_gateway_airtable")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway-airtable")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
