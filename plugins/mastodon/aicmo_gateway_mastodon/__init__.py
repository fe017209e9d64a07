"""aicmo-gateway-mastodon: publish posts to a Mastodon instance.

The plugin registers the ``mastodon`` provider type for the ``social_posting``
capability. Configure it in ``aicmo-gateway.toml``; see the README for every key.

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_mastodon")`` turns it on.
"""

from loguru import logger

logger.disable("aicmo_gateway_mastodon")

try:
    from importlib.metadata import version as _version

    __version__ = _version("aicmo-gateway-mastodon")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
