"""The store behind the engine's shared state: per-provider facts and the idempotency ledger.

``[gateway] store`` picks the backend:

- ``"memory"`` (the default): no store; each process keeps its facts in its own engine
  objects (:func:`open_shared` returns ``None`` and the engine's hot path is unchanged);
- ``"sqlite:///path"``: the processes of one host share the ledger, cooldowns, quotas and
  the breaker's open deadline (:mod:`.sqlite`);
- ``"redis://host:port/db"``: a fleet on several hosts shares them (:mod:`.redis`).

The protocol is in :mod:`.base`; the rules the memory and SQLite backends apply in
:mod:`.rules`, and their Lua twin in :mod:`.scripts`.
"""

from __future__ import annotations

import re
from pathlib import Path

from aicmo_gateway.state.store.base import (
    Claim,
    FleetFacts,
    ProviderSpec,
    ProviderState,
    SharedState,
    Verdict,
)

__all__ = [
    "NAME_PATTERN",
    "Claim",
    "FleetFacts",
    "ProviderSpec",
    "ProviderState",
    "SharedState",
    "Verdict",
    "check_store_url",
    "open_shared",
]

#: what ``[gateway] name`` may be: it becomes part of every key
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SCHEMES = ("redis://", "rediss://", "unix://", "sqlite:///")


def check_store_url(url: object) -> str | None:
    """What is wrong with a ``[gateway] store`` value, or ``None`` when it is usable."""
    if url == "memory":
        return None
    if not isinstance(url, str) or not url.startswith(_SCHEMES) or "\x00" in url:
        return "is not an available store"
    if url.startswith("sqlite:///") and not url.removeprefix("sqlite:///").strip("/ "):
        return "names no SQLite file"
    return None


def open_shared(url: str, name: str, base_dir: Path | None = None) -> SharedState | None:
    """The store ``url`` names, keys namespaced by ``name``; ``None`` for ``"memory"``.

    A relative SQLite path is relative to ``base_dir``. Raises ``ImportError`` naming the
    extra to install when the Redis client is missing, ``ValueError`` for an unknown URL,
    ``sqlite3.Error`` / ``OSError`` when the SQLite file cannot be opened.
    """
    if url == "memory":
        return None
    if url.startswith("sqlite:///"):
        from aicmo_gateway.state.store.sqlite import SqliteStore

        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return SqliteStore(path, name)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from aicmo_gateway.state.store.redis import RedisStore

        return RedisStore(url, name)
    raise ValueError(f"{url!r} is not a store: use memory, sqlite:///state.db or redis://host/0")
