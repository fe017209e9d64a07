"""What an outbox backend stores and how it is asked: rows, states, the backend protocol.

A backend is synchronous and thread-safe (the :class:`~aicmo_gateway.state.outbox.Outbox`
runs it in a worker thread); times are seconds since the epoch (``time.time()``).
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import attrs

__all__ = [
    "Interrupted",
    "OutboxBackend",
    "OutboxSettings",
    "Row",
    "RowState",
    "Settlement",
    "backoff",
    "redact_url",
]


class RowState(enum.StrEnum):
    """Where a row is in its life."""

    PENDING = "pending"  # waiting for its next attempt time
    IN_FLIGHT = "in_flight"  # claimed by a replayer until its lease ends
    DONE = "done"  # performed (or found already performed)
    DEAD = "dead"  # gave up: too many attempts, or input no provider takes
    HELD = "held"  # may have been performed (UNCERTAIN): replayed only by ``outbox retry``


#: the states ``purge`` may remove
FINISHED = (RowState.DONE, RowState.DEAD)


@attrs.frozen
class Row:
    """One stored write."""

    id: int
    capability: str
    operation: str
    idempotency_key: str
    payload: str = attrs.field(repr=False)  # JSON text, see records.py
    state: RowState = attrs.field(converter=RowState)
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    #: the last failure in words, already scrubbed of secrets by the chain
    last_error: str | None = None
    lease_until: float | None = None
    claimed_by: str | None = None
    #: the call id of the last call made for this row
    call_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        def when(stamp: float | None) -> str | None:
            return None if stamp is None else datetime.fromtimestamp(stamp, UTC).isoformat()

        return {
            "id": str(self.id),
            "capability": self.capability,
            "operation": self.operation,
            "idempotency_key": self.idempotency_key,
            "state": self.state.value,
            "attempts": self.attempts,
            "next_attempt_at": when(self.next_attempt_at),
            "created_at": when(self.created_at),
            "updated_at": when(self.updated_at),
            "last_error": self.last_error,
            "lease_until": when(self.lease_until),
            "call_id": self.call_id,
        }


@attrs.frozen
class Settlement:
    """What becomes of a row: its new state, next attempt time and last error."""

    state: RowState
    next_attempt_at: float
    last_error: str | None


#: settles a row found ``in_flight`` with its lease ended (its replayer stopped mid-attempt)
Interrupted = Callable[[Row], Settlement]


@attrs.frozen
class OutboxSettings:
    """``[gateway] outbox`` and its companions, validated."""

    url: str = attrs.field(repr=False)
    max_attempts: int = 10
    backoff: float = 30.0  # the first retry's delay; doubles each attempt
    backoff_max: float = 3600.0
    lease: float = 300.0  # an in-flight row is reclaimed this long after its claim
    batch: int = 50


class OutboxBackend(Protocol):
    """The storage under an outbox: SQLite or PostgreSQL (see their modules)."""

    def migrate(self, target: int | None = None) -> int: ...

    def version(self) -> int: ...

    def enqueue(
        self,
        capability: str,
        operation: str,
        key: str,
        payload: str,
        state: RowState,
        last_error: str | None,
        call_id: str | None,
        now: float,
        due: float | None = None,
    ) -> tuple[int, bool]:
        """Store a row, due at ``due`` (default: ``now``); a row with the same capability,
        operation and key is kept instead, unless it is ``dead``: then it takes the new
        state with its attempts from zero.

        Returns the row's id and whether it was created (or revived).
        """
        ...

    def claim(
        self, owner: str, now: float, lease: float, limit: int, interrupted: Interrupted
    ) -> list[Row]:
        """Settle the rows whose lease ended with ``interrupted``, then take up to ``limit``
        due ``pending`` rows as ``in_flight``, all in one transaction.

        A row whose lease ended keeps ``claimed_by``: if that replayer was only slow and
        the row is now ``held``, its ``finish`` still settles it (it knows what happened).
        """
        ...

    def claim_one(self, row_id: int, owner: str, now: float, lease: float) -> Row | None:
        """Take one row whatever its state (``outbox retry``); ``None`` if done or leased."""
        ...

    def finish(
        self,
        row_id: int,
        owner: str,
        state: RowState,
        next_attempt_at: float,
        last_error: str | None,
        call_id: str | None,
        now: float,
        uncount: bool = False,
    ) -> bool:
        """Settle a claimed row (``in_flight``, or ``held`` after its lease ended while this
        owner was sending it); ``False`` if it is no longer this owner's. ``uncount``: the
        attempt its claim counted does not count (no provider was available to try it)."""
        ...

    def reset(self, row_id: int, now: float) -> bool:
        """Make a ``dead`` or ``held`` row ``pending`` again, its attempts counted from zero."""
        ...

    def get(self, row_id: int) -> Row | None: ...

    def rows(self, state: RowState | None, limit: int) -> list[Row]: ...

    def counts(self) -> dict[str, int]: ...

    def purge(self, states: tuple[RowState, ...], before: float) -> int: ...

    def close(self) -> None: ...


def backoff(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt: ``base * 2**(attempts-1)``, capped, full jitter
    over its upper half (so a row never comes back at once, nor all rows together)."""
    ceiling = min(cap, base * 2 ** max(0, min(attempts - 1, 60)))
    return (rng or random).uniform(ceiling / 2, ceiling)


_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)([^@/]*)@", re.I)
_PASSWORD_PARAM = re.compile(r"(password=)[^&]*", re.I)


def redact_url(url: str) -> str:
    """The URL with any password masked, for messages and ``repr``."""
    url = _USERINFO.sub(
        lambda m: (
            m.group(1)
            + (m.group(2).split(":", 1)[0] + ":********" if ":" in m.group(2) else m.group(2))
            + "@"
        ),
        url,
    )
    return _PASSWORD_PARAM.sub(r"\1********", url)
