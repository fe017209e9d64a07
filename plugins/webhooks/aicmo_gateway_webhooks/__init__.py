"""aicmo-gateway-webhooks: signed webhooks to Make, Zapier, n8n or any HTTP(S) endpoint.

The plugin registers the ``webhook`` provider type for the ``webhook_dispatch`` capability.
Every event is sent as JSON with the Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``), through an SSRF guard. Configure it in
``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_webhooks")`` turns it on.
"""

from loguru import logger

logger.disable("aicmo_gateway_webhooks")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway-webhooks")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
