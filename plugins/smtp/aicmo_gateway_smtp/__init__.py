"""aicmo-gateway-smtp: send email through SMTP servers (Gmail, Microsoft 365, any relay).

The plugin registers the ``smtp`` and ``gmail`` provider types for the
``email_sending`` capability. Configure them in ``aicmo-gateway.toml``; see
the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_smtp")`` turns it on.
"""

from loguru import logger

logger.disable("aicmo_gateway_smtp")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway-smtp")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
