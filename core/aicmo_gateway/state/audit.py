"""The audit trail: the last N call records, bounded in memory, and their explanation."""

from __future__ import annotations

import threading
from collections import OrderedDict

from aicmo_gateway.outcome import Action, CallRecord

__all__ = ["AuditTrail", "explain"]


class AuditTrail:
    """Keeps the most recent ``size`` call records; older ones are forgotten."""

    def __init__(self, size: int = 1000) -> None:
        if size < 0:
            raise ValueError("the audit size must be 0 or more")
        self.size = size
        self._records: OrderedDict[str, CallRecord] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, record: CallRecord) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._records[record.outcome.call_id] = record
            while len(self._records) > self.size:
                self._records.popitem(last=False)

    def get(self, call_id: str) -> CallRecord | None:
        with self._lock:
            return self._records.get(call_id)

    def recent(self, limit: int | None = None) -> list[CallRecord]:
        with self._lock:
            records = list(self._records.values())
        return records[-limit:] if limit else records

    def __len__(self) -> int:
        return len(self._records)


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
