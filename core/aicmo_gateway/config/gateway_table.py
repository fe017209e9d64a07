"""The ``[gateway]`` table, read and checked (every problem collected).

Its keys are ``GATEWAY_KEYS``: the store and the name that namespaces it, ``dry_run``,
``audit_size``, ``state_dir`` and the outbox's keys (read by
:func:`aicmo_gateway.config.outbox.read_outbox`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicmo_gateway.config.load import GATEWAY_KEYS
from aicmo_gateway.config.outbox import read_outbox
from aicmo_gateway.config_values import (
    BadValue,
    EnvText,
    Range,
    read_bool,
    read_number,
    shown,
)
from aicmo_gateway.state.outbox.backend import redact_url
from aicmo_gateway.state.store import NAME_PATTERN, check_store_url

if TYPE_CHECKING:
    from aicmo_gateway.config.tables import ConfigLoader

__all__ = ["AUDIT_SIZE", "read_gateway", "read_store"]

#: the allowed values of [gateway] audit_size
AUDIT_SIZE = Range(0, 1_000_000, whole=True)


def read_gateway(loader: ConfigLoader, table: Mapping[str, Any]) -> dict[str, Any]:
    """The ``[gateway]`` values, as :class:`~aicmo_gateway.config.load.GatewayConfig`'s keywords."""
    loader.unknown_keys(
        table, GATEWAY_KEYS, "gateway", "a gateway setting", "the [gateway] keys are"
    )
    store, name = read_store(loader, table)
    dry_run = False
    try:
        dry_run = read_bool(table.get("dry_run", False), "dry_run")
    except BadValue as bad:
        loader.problem("gateway.dry_run", bad.message, bad.fix)
    audit_size = 1000
    try:
        audit_size = read_number(table.get("audit_size", 1000), AUDIT_SIZE, "audit_size", 1000)
    except BadValue as bad:
        loader.problem("gateway.audit_size", bad.message, f"{bad.fix} (0 keeps no audit trail)")
    state_dir = None
    raw_dir, _ = loader.resolve(table.get("state_dir"), "gateway.state_dir")
    if raw_dir is not None:
        if not isinstance(raw_dir, str) or not raw_dir.strip():
            loader.problem(
                "gateway.state_dir",
                f"expected a folder path, got {shown(raw_dir)}",
                'write state_dir = ".aicmo-gateway"',
            )
        elif "\x00" not in raw_dir:
            state_dir = Path(str(raw_dir))
            if not state_dir.is_absolute() and loader.base is not None:
                state_dir = loader.base / state_dir
            if isinstance(raw_dir, EnvText):
                loader.references["state_dir"] = raw_dir.reference
    return {
        "store": store,
        "name": name,
        "dry_run": dry_run,
        "audit_size": audit_size,
        "state_dir": state_dir,
        "outbox": read_outbox(loader, table),
    }


def read_store(loader: ConfigLoader, table: Mapping[str, Any]) -> tuple[str, str]:
    """``[gateway] store`` and ``name`` (which namespaces the store's keys), checked."""
    known = len(loader.problems)
    store, _ = loader.resolve(table.get("store", "memory"), "gateway.store")
    wrong = check_store_url(store) if len(loader.problems) == known else None
    if wrong is not None:
        shown_url = (
            redact_url(store)
            if isinstance(store, str) and not isinstance(store, EnvText)
            else store
        )
        loader.problem(
            "gateway.store",
            f"{shown(shown_url)} {wrong}",
            'use store = "memory" (one process), "sqlite:///state.db" (the processes of '
            'one host) or "redis://host:6379/0" (several hosts)',
        )
    if isinstance(store, EnvText):
        loader.references["store"] = store.reference
    name, _ = loader.resolve(table.get("name", "aicmo-gateway"), "gateway.name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        loader.problem(
            "gateway.name",
            f"{shown(name)} is not a usable name",
            "use up to 64 letters, digits, '_', '-' or '.', e.g. name = \"crm-sync\"",
        )
        name = "aicmo-gateway"
    return (str(store) if wrong is None else "memory"), str(name)
