"""A completed write's ``Outcome`` as the shared ledger stores it: JSON text and back.

The value is written with the outbox's record encoding
(:mod:`aicmo_gateway.state.outbox.records`), so every port record (a ``SendReceipt``, a
``CrmRecord``, ...) comes back as it went in. A value that encoding refuses (a provider's
own object, a ``Secret``) is left out: the outcome still says the write was performed, by
whom and in which call, so it is never performed again.
"""

from __future__ import annotations

import json
from typing import Any

from aicmo_gateway.outcome import Outcome, Status
from aicmo_gateway.state.outbox.records import RecordError, decode, encode

__all__ = ["dump_outcome", "load_outcome"]


def dump_outcome(outcome: Outcome) -> str:
    try:
        value: str | None = encode(outcome.value)
    except RecordError:
        value = None
    data: dict[str, Any] = {
        "status": outcome.status.value,
        "value": value,
        "provider": outcome.provider,
        "call_id": outcome.call_id,
        "reason": outcome.reason,
    }
    return json.dumps(data, separators=(",", ":"))


def load_outcome(text: str, capability: str, operation: str, key: str) -> Outcome:
    """The outcome :func:`dump_outcome` wrote (without attempts); raises ``ValueError`` when
    the text cannot be read."""
    data = json.loads(text)
    value = data.get("value")
    return Outcome(
        Status(data["status"]),
        value=decode(value) if value is not None else None,
        provider=data.get("provider"),
        attempts=(),
        call_id=data.get("call_id") or "",
        capability=capability,
        operation=operation,
        idempotency_key=key,
        reason=data.get("reason"),
    )
