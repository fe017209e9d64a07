"""aicmo-gateway-webhooks: signed webhooks to Make, Zapier, n8n or any HTTP(S) endpoint.

The plugin registers the ``webhook`` provider type for the ``webhook_dispatch`` capability.
Every event is sent as JSON with the Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``), through an SSRF guard. Configure it in
``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_webhooks")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_webhooks")

__getattr__ = version_getattr(__name__, "aicmo-gateway-webhooks")

__all__ = ["__version__"]
