"""Opening the stores a gateway's config names: the shared store and the outbox's backend.

A store that cannot be opened is a :class:`~aicmo_gateway.errors.ConfigError` naming the key
and the fix, with the URL's password masked.
"""

from __future__ import annotations

import asyncio

from aicmo_gateway.config.load import GatewayConfig
from aicmo_gateway.errors import ConfigError, ConfigProblem
from aicmo_gateway.state.outbox import open_backend, redact_url
from aicmo_gateway.state.outbox.backend import OutboxBackend
from aicmo_gateway.state.store import SharedState, open_shared

__all__ = ["close_now", "open_outbox_backend", "open_shared_store"]


def open_outbox_backend(config: GatewayConfig) -> OutboxBackend:
    """The backend ``[gateway] outbox`` names, migrated to the current schema."""
    assert config.outbox is not None
    try:
        backend = open_backend(config.outbox.url, config.base_dir)
        backend.migrate()
    except Exception as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    config.source,
                    "gateway.outbox",
                    f"cannot open the outbox {config.outbox_shown}: "
                    f"{type(exc).__name__}: {redact_url(str(exc))}",
                    "check that the folder exists and is writable, or that the database "
                    "server is running and the URL is right",
                )
            ]
        ) from None
    return backend


def open_shared_store(config: GatewayConfig) -> SharedState | None:
    """The store ``[gateway] store`` names; a store that cannot be opened is a config error.

    A store given as ``${VAR}`` shows itself as the reference (``health.json``, log lines).
    """
    try:
        shared = open_shared(config.store, config.name, config.base_dir)
        reference = config.references.get("store")
        if shared is not None and reference:
            shared.shown = reference
            reach = getattr(shared, "reach", None)
            if reach is not None:
                reach.shown = reference
        return shared
    except Exception as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    config.source,
                    "gateway.store",
                    f"cannot open the store {config.store_shown}: {type(exc).__name__}: "
                    f"{redact_url(str(exc))}",
                    "install what the message names, check that the folder exists and is "
                    'writable, or use store = "memory"',
                )
            ]
        ) from None


def close_now(store: SharedState) -> None:
    """Close a store no gateway took (its build failed); nothing is in flight yet."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(store.aclose())
        return
    close = getattr(store, "close_now", None)
    if callable(close):
        close()
