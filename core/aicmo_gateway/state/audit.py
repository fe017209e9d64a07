"""The audit trail: the last N call records, bounded in memory, and their explanation."""

from __future__ import annotations

import threading
from datetime import datetime

from aicmo_gateway.outcome import Action, CallRecord, Outcome

__all__ = ["AuditTrail", "explain"]


class AuditTrail:
    """Keeps the most recent ``size`` call records; older ones are forgotten.

    A call is kept as its parts (:meth:`add_call`); its :class:`CallRecord` is built when
    someone reads it, so calls nobody looks at cost no record.
    """

    def __init__(self, size: int = 1000) -> None:
        if size < 0:
            raise ValueError("the audit size must be 0 or more")
        self.size = size
        #: call id -> the record, or its parts (outcome, started at, seconds, dry run)
        self._records: dict[str, CallRecord | _Parts] = {}
        self._lock = threading.Lock()

    def add(self, record: CallRecord) -> None:
        self._keep(record.outcome.call_id, record)

    def add_call(
        self, outcome: Outcome, started_at: datetime, duration: float, dry_run: bool = False
    ) -> None:
        """Keep a call without building its record (built if it is ever read)."""
        self._keep(outcome.call_id, (outcome, started_at, duration, dry_run))

    def _keep(self, call_id: str, entry: CallRecord | _Parts) -> None:
        if self.size == 0:
            return
        with self._lock:
            records = self._records
            records[call_id] = entry
            while len(records) > self.size:
                del records[next(iter(records))]

    def get(self, call_id: str) -> CallRecord | None:
        with self._lock:
            entry = self._records.get(call_id)
        return None if entry is None else _record(entry)

    def recent(self, limit: int | None = None) -> list[CallRecord]:
        with self._lock:
            entries = list(self._records.values())
        return [_record(e) for e in (entries[-limit:] if limit else entries)]

    def __len__(self) -> int:
        return len(self._records)


_Parts = tuple[Outcome, datetime, float, bool]


def _record(entry: CallRecord | _Parts) -> CallRecord:
    return CallRecord(*entry) if isinstance(entry, tuple) else entry


def explain(record: CallRecord) -> str:
    """One call's decisions, in words, one line per step."""
    o = record.outcome
    lines = [
        f"call {o.call_id}: {o.capability}.{o.operation} -> {o.status.value}"
        + (f" via {o.provider}" if o.provider else ""),
        f"  started {record.started_at.isoformat()}, took {record.duration * 1000:.1f} ms"
        + (", dry run" if record.dry_run else ""),
    ]
    if o.idempotency_key:
        lines.append(f"  idempotency key {o.idempotency_key}")
    if o.replayed_from:
        lines.append(
            f"  already performed by call {o.replayed_from} with this key: "
            "its outcome was returned and nothing was performed again"
        )
    if o.outbox_id:
        lines.append(
            f"  stored in the outbox as row {o.outbox_id}"
            + (" (held: replayed only by `outbox retry`)" if o.status.value == "uncertain" else "")
            + f": aicmo-gateway outbox show {o.outbox_id}"
        )
    for i, a in enumerate(o.attempts, 1):
        if a.action is Action.SKIP:
            lines.append(f"  {i}. skipped {a.provider} ({a.provider_type}): {a.detail}")
            continue
        result = "ok" if a.error is None else f"{a.error}: {a.detail}"
        lines.append(
            f"  {i}. tried {a.provider} ({a.provider_type}) for {a.duration * 1000:.1f} ms: "
            f"{result} -> {a.action.value}"
        )
    if o.reason:
        lines.append(f"  reason: {o.reason}")
    return "\n".join(lines)
