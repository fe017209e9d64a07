"""aicmo-gateway-smtp: send email through SMTP servers (Gmail, Microsoft 365, any relay).

The plugin registers the ``smtp`` and ``gmail`` provider types for the
``email_sending`` capability. Configure them in ``aicmo-gateway.toml``; see
the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_smtp")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_smtp")

__getattr__ = version_getattr(__name__, "aicmo-gateway-smtp")

__all__ = ["__version__"]
