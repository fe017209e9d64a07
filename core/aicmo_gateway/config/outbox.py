"""``[gateway] outbox`` and its companion keys, read and checked (every problem collected)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aicmo_gateway.config_values import BadValue, EnvText, Range, read_number, shown
from aicmo_gateway.state.outbox.backend import OutboxSettings, redact_url

if TYPE_CHECKING:
    from aicmo_gateway.config.load import CapabilityConfig
    from aicmo_gateway.config.tables import ConfigLoader

__all__ = ["OUTBOX_KEYS", "check_defer", "read_outbox"]

#: key -> (allowed values, default, the example a fix suggests)
OUTBOX_KEYS: dict[str, tuple[Range, float, Any]] = {
    "outbox_max_attempts": (Range(1, 1000, whole=True), 10, 10),
    "outbox_backoff": (Range(0.1, 86400.0, seconds=True), 30.0, "30s"),
    "outbox_backoff_max": (Range(1.0, 7 * 86400.0, seconds=True), 3600.0, "1h"),
    "outbox_lease": (Range(1.0, 86400.0, seconds=True), 300.0, "5m"),
    "outbox_batch": (Range(1, 10_000, whole=True), 50, 50),
}
_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")


def read_outbox(loader: ConfigLoader, table: Mapping[str, Any]) -> OutboxSettings | None:
    """The outbox settings, or ``None`` when ``outbox`` is not set (or set to "off")."""
    url, _ = loader.resolve(table.get("outbox"), "gateway.outbox")
    values: dict[str, Any] = {}
    for key, (spec, default, example) in OUTBOX_KEYS.items():
        try:
            values[key] = read_number(table.get(key, default), spec, key, example)
        except BadValue as bad:
            loader.problem(f"gateway.{key}", bad.message, bad.fix)
    if url is None or (isinstance(url, str) and url.strip().lower() in ("off", "none", "")):
        return None
    if not isinstance(url, str) or not url.startswith(_SCHEMES) or "\x00" in url:
        shown_url = redact_url(url) if isinstance(url, str) else url
        loader.problem(
            "gateway.outbox",
            f"{shown(shown_url)} is not an outbox URL",
            'write outbox = "sqlite:///outbox.db" (a file next to this config) or '
            'outbox = "postgresql://user@host/database"',
        )
        return None
    if url.startswith("sqlite:///") and not url.removeprefix("sqlite:///").strip("/ "):
        loader.problem(
            "gateway.outbox", "the SQLite URL names no file", 'write "sqlite:///outbox.db"'
        )
        return None
    if isinstance(url, EnvText):
        loader.references["outbox"] = url.reference
    if values.get("outbox_backoff_max", 3600.0) < values.get("outbox_backoff", 30.0):
        loader.problem(
            "gateway.outbox_backoff_max",
            "is shorter than outbox_backoff",
            "make outbox_backoff_max at least outbox_backoff",
        )
    return OutboxSettings(
        str(url),
        max_attempts=int(values.get("outbox_max_attempts", 10)),
        backoff=values.get("outbox_backoff", 30.0),
        backoff_max=values.get("outbox_backoff_max", 3600.0),
        lease=values.get("outbox_lease", 300.0),
        batch=int(values.get("outbox_batch", 50)),
    )


def check_defer(
    loader: ConfigLoader, capabilities: Mapping[str, CapabilityConfig], has_outbox: bool
) -> None:
    """``when_all_down = "defer"`` stores writes in the outbox: without one it is a problem
    (a bad ``outbox`` value was reported already and is not reported twice)."""
    if has_outbox or any(p.key == "gateway.outbox" for p in loader.problems):
        return
    for name, cap in capabilities.items():
        if cap.policy.when_all_down == "defer":
            loader.problem(
                f"capabilities.{name}.when_all_down",
                "'defer' stores the write in the outbox, and [gateway] sets no outbox",
                'add outbox = "sqlite:///outbox.db" (or "postgresql://...") under [gateway], '
                'or use when_all_down = "fail", "wait" or "closest"',
            )
