"""The rows of ``health.json``: written from a provider's health snapshot, read back as of now.

A row read back is checked (:func:`checked_health`: the keys its readers rely on, with their
types); one that is not a gateway's is :class:`UnreadableState`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aicmo_gateway.state.health import HealthSnapshot

__all__ = ["UnreadableState", "checked_health", "health_as_of", "learnt", "snapshot_to_json"]


def _wall(at: float, clock_time: float | None) -> str | None:
    if clock_time is None:
        return None
    return datetime.fromtimestamp(time.time() + (clock_time - at), UTC).isoformat()


def snapshot_to_json(
    capability: str, provider: str, ptype: str, snap: HealthSnapshot
) -> dict[str, Any]:
    return {
        "capability": capability,
        "provider": provider,
        "type": ptype,
        "health": snap.health.value,
        "state": snap.state.value,
        "reason": snap.reason,
        "open_until": _wall(snap.at, snap.open_until),
        "cooldown_until": _wall(snap.at, snap.cooldown_until),
        "calls": snap.calls,
        "failure_rate": snap.failure_rate,
        "slow_rate": snap.slow_rate,
        "consecutive_failures": snap.consecutive_failures,
        "ewma_latency": snap.ewma_latency,
        "trips": snap.trips,
        "demoted": snap.demoted,
    }


def health_as_of(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A recorded ``health.json`` row as it stands at ``now``.

    The row was true when it was written; deadlines that have passed since then
    have taken effect: an open breaker whose open period ended is ``half_open``
    (ready for a probe: the next call decides), and an ended cooldown is gone. A
    provider nothing refuses any more is ``degraded`` until a call shows otherwise.
    """
    row = dict(row)
    notes = []
    opened = _passed(row.get("open_until"), now)
    if row.get("state") == "open" and opened:
        row.update(state="half_open", open_until=None)
        notes.append(f"open period ended at {opened}: ready for a probe")
    cooled = _passed(row.get("cooldown_until"), now)
    if cooled:
        row["cooldown_until"] = None
        notes.append(f"cooldown ended at {cooled}")
    if notes and row.get("health") == "unhealthy":
        if row["state"] == "open":  # still open: its own reason still holds
            notes.insert(0, row.get("reason") or f"open until {row['open_until']}")
        elif row["cooldown_until"] is not None:
            notes.append(f"cooling down until {row['cooldown_until']}")
        refused = row["state"] == "open" or row["cooldown_until"] is not None
        row["health"] = "unhealthy" if refused else "degraded"
        row["reason"] = "; ".join(notes)
    return row


def _passed(when: str | None, now: datetime) -> str | None:
    """``when`` (an ISO time) if it is at or before ``now``, else ``None``."""
    if not when:
        return None
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    return when if at <= now else None


#: the keys of a ``health.json`` row that its readers rely on, and their types
_ROW_TYPES: dict[str, type | tuple[type, ...]] = {
    "capability": str,
    "provider": str,
    "type": str,
    "health": str,
    "state": str,
    "reason": (str, type(None)),
    "open_until": (str, type(None)),
    "cooldown_until": (str, type(None)),
    "calls": int,
    "failure_rate": (int, float),
    "ewma_latency": (int, float, type(None)),
}


class UnreadableState(Exception):
    """A state file that exists but cannot be read, or was not written by a gateway.

    Its text says why without the folder's path (which may come from ``${VAR}``): the
    caller names the folder as the config shows it.
    """


def learnt(row: dict[str, Any]) -> bool:
    """Whether a ``health.json`` row holds anything a gateway learnt from calls."""
    return bool(
        row.get("health") != "unknown"
        or row.get("state") != "closed"
        or row.get("ewma_latency") is not None
        or row.get("cooldown_until")
        or row.get("trips")
    )


def checked_health(data: Any) -> dict[str, Any]:
    """``health.json``'s document, if it has the shape gateways write; else UnreadableState."""
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("providers"), list)
        or not isinstance(data.get("written_at"), str)
        or not isinstance(data.get("pid"), int)
    ):
        raise UnreadableState("it is not a health record written by aicmo-gateway")
    for i, row in enumerate(data["providers"], 1):
        missing = _ROW_TYPES.keys() - row.keys() if isinstance(row, dict) else _ROW_TYPES.keys()
        if missing:
            raise UnreadableState(
                f"provider entry {i} is not one a gateway writes (missing "
                f"{', '.join(sorted(missing))})"
            )
        wrong = [key for key, kinds in _ROW_TYPES.items() if not isinstance(row[key], kinds)]
        if wrong:
            raise UnreadableState(
                f"provider entry {i} is not one a gateway writes (wrong {', '.join(wrong)})"
            )
    return data
