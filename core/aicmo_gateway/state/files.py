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

from aicmo_gateway.outcome import CallRecord
from aicmo_gateway.state.call_json import record_from_json, record_to_json
from aicmo_gateway.state.health_rows import (
    UnreadableState,
    checked_health,
    health_as_of,
    learnt,
    snapshot_to_json,
)

__all__ = [
    "StateFiles",
    "UnreadableState",
    "health_as_of",
    "record_from_json",
    "record_to_json",
    "snapshot_to_json",
]


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
        if all(learnt(row) for row in rows):
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
            if learnt(row)
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
        return checked_health(data)

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
