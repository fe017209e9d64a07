"""redis-py for the Redis store: whether it is installed, and a client of one event loop.

redis-py is the core's ``redis`` extra; it is imported when a Redis store is opened.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway.plugins.known import how_to_install

__all__ = ["LoopClient", "install_hint", "require_redis"]


def install_hint() -> str:
    """How to install the core's ``redis`` extra (from a checkout while it is not on PyPI)."""
    return how_to_install("aicmo-gateway", "redis") or "install redis-py (redis>=5.0)"


def require_redis() -> None:
    """Raise a clear ``ImportError`` naming the extra when redis-py is missing."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        raise ImportError(
            f"the Redis store needs redis-py, which is not installed: install the core's "
            f"redis extra {install_hint()}"
        ) from None


class LoopClient:
    """A redis-py client of one event loop and the scripts registered on it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._scripts: dict[str, Any] = {}

    def script(self, text: str) -> Any:
        found = self._scripts.get(text)
        if found is None:
            found = self._scripts[text] = self.client.register_script(text)
        return found
