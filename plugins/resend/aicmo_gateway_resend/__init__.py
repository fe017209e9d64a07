"""aicmo-gateway-resend: send email through the Resend HTTP API.

The plugin registers the ``resend`` provider type for the ``email_sending``
capability. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_resend")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_resend")

__getattr__ = version_getattr(__name__, "aicmo-gateway-resend")

__all__ = ["__version__"]
