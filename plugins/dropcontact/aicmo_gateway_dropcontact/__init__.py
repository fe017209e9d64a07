"""aicmo-gateway-dropcontact: email verification and lead enrichment through Dropcontact.

The plugin registers the ``dropcontact`` provider type for the ``email_verification``
and ``lead_enrichment`` capabilities. Dropcontact's API is asynchronous: a batch of up
to 250 records is submitted, then its result is polled until it is ready. Configure it
in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_dropcontact")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_dropcontact")

__getattr__ = version_getattr(__name__, "aicmo-gateway-dropcontact")

__all__ = ["__version__"]
