"""The names the plugin machinery answers to: the core's distribution and the environment switches.

Kept apart from discovery so that the command line can name them without importing
importlib-metadata, pluggy or packaging.
"""

from __future__ import annotations

__all__ = ["CORE_DISTRIBUTION", "ENV_DISABLE", "ENV_LOAD", "ENV_STRICT", "ENV_TRACE"]

CORE_DISTRIBUTION = "aicmo-gateway"
ENV_LOAD = "AICMO_GATEWAY_LOAD_PLUGINS"
ENV_DISABLE = "AICMO_GATEWAY_DISABLE_PLUGINS"
ENV_STRICT = "AICMO_GATEWAY_STRICT_PLUGINS"
ENV_TRACE = "AICMO_GATEWAY_TRACE_PLUGINS"
