"""A call's record as one JSON line of ``audit.jsonl``, and back.

Values are summarised, never stored whole: no message bodies, no secrets (a value comes from
a provider as is: its summary masks what is under a credential-like name, and ``scrub``
removes every configured secret).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aicmo_gateway.outcome import Action, Attempt, CallRecord, Outcome, Status
from aicmo_gateway.scrub import summary

__all__ = ["record_from_json", "record_to_json"]

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
