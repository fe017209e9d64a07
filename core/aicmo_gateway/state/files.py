"""State files: the audit trail and provider health written to a folder, for the CLI.

With ``[gateway] state_dir`` set, every call is appended to ``audit.jsonl``
(trimmed to the last ``audit_size`` calls) and provider health is written to
``health.json`` (atomically, at most once a second), so ``aicmo-gateway status``
and ``aicmo-gateway explain CALL_ID`` can show them from another process.
Values are summarised, never stored whole: no message bodies, no secrets (a value comes from
a provider as is: its summary masks what is under a credential-like name, and the gateway
scrubs it of every configured secret, the providers' and its own).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aicmo_gateway.outcome import Action, Attempt, CallRecord, Outcome, Status
from aicmo_gateway.scrub import summary
from aicmo_gateway.state.health import HealthSnapshot

__all__ = [
    "StateFiles",
    "UnreadableState",
    "health_as_of",
    "record_from_json",
    "record_to_json",
]

_VALUE_CHARS = 200


def record_to_json(record: CallRecord, scrub: Callable[[str], str] | None = None) -> dict[str, Any]:
    """``record`` as a JSON object.

    The value is summarised (:func:`~aicmo_gateway.scrub.summary`: at most 200 characters,
    values under credential-like names masked), and ``scrub`` removes known secret values
    from the summary.
    """
    o = record.outcome
    value = None if o.value is None else summary(o.value, _VALUE_CHARS)
    if value is not None and scrub is not None:
        value = scrub(value)
    return {
        "call_id": o.call_id,
        "capability": o.capability,
        "operation": o.operation,
        "status": o.status.value,
        "provider": o.provider,
        "idempotency_key": o.idempotency_key,
        "reason": o.reason,
        "replayed_from": o.replayed_from,
        "outbox_id": o.outbox_id,
        "value": value,
        "started_at": record.started_at.isoformat(),
        "duration": record.duration,
        "dry_run": record.dry_run,
        "attempts": [
            {
                "provider": a.provider,
                "provider_type": a.provider_type,
                "started_at": a.started_at.isoformat(),
                "duration": a.duration,
                "action": a.action.value,
                "error": a.error,
                "detail": a.detail,
            }
            for a in o.attempts
        ],
    }


def record_from_json(data: dict[str, Any]) -> CallRecord:
    attempts = [
        Attempt(
            a["provider"],
            a["provider_type"],
            datetime.fromisoformat(a["started_at"]),
            a["duration"],
            Action(a["action"]),
            a.get("error"),
            a.get("detail"),
        )
        for a in data.get("attempts", [])
    ]
    outcome = Outcome(
        Status(data["status"]),
        value=data.get("value"),
        provider=data.get("provider"),
        attempts=attempts,
        call_id=data["call_id"],
        capability=data["capability"],
        operation=data["operation"],
        idempotency_key=data.get("idempotency_key"),
        reason=data.get("reason"),
        replayed_from=data.get("replayed_from"),
        outbox_id=data.get("outbox_id"),
    )
    return CallRecord(
        outcome,
        datetime.fromisoformat(data["started_at"]),
        data["duration"],
        bool(data.get("dry_run")),
    )


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


def _learnt(row: dict[str, Any]) -> bool:
    """Whether a ``health.json`` row holds anything a gateway learnt from calls."""
    return bool(
        row.get("health") != "unknown"
        or row.get("state") != "closed"
        or row.get("ewma_latency") is not None
        or row.get("cooldown_until")
        or row.get("trips")
    )


def _checked_health(data: Any) -> dict[str, Any]:
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


class StateFiles:
    """``audit.jsonl`` and ``health.json`` in one folder.

    ``scrub`` removes secrets from what a provider returned (the summaries of call values)
    before it is written; the gateway passes one that knows every provider's secrets.
    ``shown`` is how messages name the folder: the config's ``${VAR}`` reference when the
    folder came from one (its path is then never printed), else the path.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        keep: int = 1000,
        health_interval: float = 1.0,
        scrub: Callable[[str], str] | None = None,
        shown: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.shown = shown or str(self.directory)
        self.scrub = scrub
        self.keep = keep
        self.health_interval = health_interval
        self._lock = threading.Lock()
        self._lines = -1
        self._last_health = 0.0

    @property
    def audit_path(self) -> Path:
        return self.directory / "audit.jsonl"

    @property
    def health_path(self) -> Path:
        return self.directory / "health.json"

    def append(self, record: CallRecord) -> None:
        line = json.dumps(record_to_json(record, self.scrub), separators=(",", ":"), default=str)
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self._lines < 0:
                self._lines = _count_lines(self.audit_path)
            with self.audit_path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            self._lines += 1
            if self.keep and self._lines > 2 * self.keep:
                lines = self.audit_path.read_text(encoding="utf-8").splitlines()[-self.keep :]
                _atomic_write(self.audit_path, "\n".join(lines) + "\n")
                self._lines = len(lines)

    def write_health(
        self,
        rows: Callable[[], list[dict[str, Any]]],
        *,
        force: bool = False,
        store: Callable[[], dict[str, Any] | None] | None = None,
    ) -> None:
        """Write ``rows()`` if the last write is older than ``health_interval`` (or ``force``).

        ``rows`` is only called when a write is due, so the snapshots cost nothing
        on the calls in between; ``store()``, when given, says whether the shared store
        is reachable.
        """
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_health < self.health_interval:
                return
            self._last_health = now
            self.directory.mkdir(parents=True, exist_ok=True)
            payload = {
                "written_at": datetime.now(UTC).isoformat(),
                "pid": os.getpid(),
                "providers": self._merged(rows()),
            }
            shared = store() if store is not None else None
            if shared is not None:
                payload["store"] = shared
            _atomic_write(self.health_path, json.dumps(payload, indent=2, default=str))

    def _merged(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows``, where this gateway learnt nothing of a provider, with the row recorded
        for it (by another process, or before): writing an ``unknown`` row would erase what
        the workers learnt. Rows of providers this gateway does not have are dropped."""
        if all(_learnt(row) for row in rows):
            return rows
        try:
            recorded = self._read_health_file()
        except (UnreadableState, FileNotFoundError):
            return rows
        by_key = {
            (row["capability"], row["provider"], row["type"]): row for row in recorded["providers"]
        }
        return [
            row
            if _learnt(row)
            else by_key.get((row["capability"], row["provider"], row["type"]), row)
            for row in rows
        ]

    def _read_health_file(self) -> dict[str, Any]:
        """``health.json`` as written; FileNotFoundError when there is none."""
        try:
            text = self.health_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise UnreadableState(_why(exc)) from None
        except UnicodeDecodeError:
            raise UnreadableState("it is not UTF-8 text") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UnreadableState(f"it is not JSON ({exc})") from None
        return _checked_health(data)

    def read_health(self, now: datetime | None = None) -> dict[str, Any] | None:
        """``health.json`` with every provider shown as of ``now`` (see :func:`health_as_of`).

        ``None`` when nothing was recorded yet; :class:`UnreadableState` when the file cannot
        be read or was not written by a gateway.
        """
        try:
            data = self._read_health_file()
        except FileNotFoundError:
            return None
        now = datetime.now(UTC) if now is None else now
        data["as_of"] = now.isoformat()
        data["providers"] = [health_as_of(row, now) for row in data.get("providers", [])]
        return data

    def find(self, call_id: str) -> CallRecord | None:
        data = self.find_json(call_id)
        return None if data is None else record_from_json(data)

    def find_json(self, call_id: str) -> dict[str, Any] | None:
        """The recorded line of a call, as written (its value already a summary)."""
        try:
            text = self.audit_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UnreadableState(_why(exc)) from None
        for line in reversed(text.splitlines()):
            if f'"call_id":"{call_id}"' in line:
                try:
                    data = json.loads(line)
                    record_from_json(data)  # every field a record needs is there
                except (ValueError, TypeError, KeyError, AttributeError):
                    continue  # a line cut short by a crash, or not a gateway's: an older one
                return data  # type: ignore[no-any-return]
        return None


def _why(exc: OSError) -> str:
    """An OSError in words, without the path it names."""
    return exc.strerror or type(exc).__name__


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
