"""aicmo-gateway-resend: send email through the Resend HTTP API.

The plugin registers the ``resend`` provider type for the ``email_sending``
capability. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_resend")`` turns it on.
"""

from loguru import logger

logger.disable("aicmo_gateway_resend")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway-resend")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
