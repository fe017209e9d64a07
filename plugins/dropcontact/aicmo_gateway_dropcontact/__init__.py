"""aicmo-gateway-dropcontact: email verification and lead enrichment through Dropcontact.

The plugin registers the ``dropcontact`` provider type for the ``email_verification``
and ``lead_enrichment`` capabilities. Dropcontact's API is asynchronous: a batch of up
to 250 records is submitted, then its result is polled until it is ready. Configure it
in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_dropcontact")`` turns it on.
"""

from loguru import logger

logger.disable("aicmo_gateway_dropcontact")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway-dropcontact")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
