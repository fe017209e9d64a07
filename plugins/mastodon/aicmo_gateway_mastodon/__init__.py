"""aicmo-gateway-mastodon: publish posts to a Mastodon instance.

The plugin registers the ``mastodon`` provider type for the ``social_posting``
capability. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_mastodon")`` turns it on.
"""

from aicmo_gateway.plugin_kit import silence, version_getattr

silence("aicmo_gateway_mastodon")

__getattr__ = version_getattr(__name__, "aicmo-gateway-mastodon")

__all__ = ["__version__"]
