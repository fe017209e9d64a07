"""aicmo-gateway-bluesky: publish posts to Bluesky (any atproto PDS).

The plugin registers the ``bluesky`` provider type for the ``social_posting``
capability. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_bluesky")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_bluesky")

__getattr__ = version_getattr(__name__, "aicmo-gateway-bluesky")

__all__ = ["__version__"]
