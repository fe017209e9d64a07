"""The audit trail: the last N call records, bounded in memory, and their explanation."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

from aicmo_gateway.outcome import Action, CallRecord, Outcome

__all__ = ["AuditTrail", "explain"]


class AuditTrail:
    """Keeps the most recent ``size`` call records; older ones are forgotten.

    A call is kept as its parts (:meth:`add_call`); its :class:`CallRecord` is built when
    someone reads it, so calls nobody looks at cost no record. Adding takes no lock (a
    bounded deque's append is atomic); readers copy the deque in one step.
    """

    def __init__(self, size: int = 1000) -> None:
        if size < 0:
            raise ValueError("the audit size must be 0 or more")
        self.size = size
        #: the records, or their parts (outcome, started at, seconds, dry run), oldest first
        self._entries: deque[CallRecord | _Parts] = deque(maxlen=size)

    def add(self, record: CallRecord) -> None:
        self._entries.append(record)

    def add_call(
        self,
        outcome: Outcome,
        started_at: datetime | float,
        duration: float,
        dry_run: bool = False,
    ) -> None:
        """Keep a call without building its record (built if it is ever read).

        ``started_at``: a datetime, or seconds since the epoch (``time.time()``).
        """
        self._entries.append((outcome, started_at, duration, dry_run))

    def get(self, call_id: str) -> CallRecord | None:
        for entry in reversed(list(self._entries)):
            outcome = entry[0] if type(entry) is tuple else entry.outcome  # type: ignore[union-attr]
            if outcome.call_id == call_id:
                return _record(entry)
        return None

    def recent(self, limit: int | None = None) -> list[CallRecord]:
        entries = list(self._entries)
        return [_record(e) for e in (entries[-limit:] if limit else entries)]

    def __len__(self) -> int:
        return len(self._entries)


_Parts = tuple[Outcome, "datetime | float", float, bool]


def _record(entry: CallRecord | _Parts) -> CallRecord:
    if not isinstance(entry, tuple):
        return entry
    outcome, started_at, duration, dry_run = entry
    if not isinstance(started_at, datetime):
        started_at = datetime.fromtimestamp(started_at, UTC)
    return CallRecord(outcome, started_at, duration, dry_run)


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
