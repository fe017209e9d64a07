"""The outbox: writes no provider performed, stored durably and replayed later.

A write whose chain ends ``FAILED`` (every provider definitely did not perform it, or
every one was skipped as unavailable: ``when_all_down = "defer"``) is stored as a
``pending`` row and the call returns ``DEFERRED`` with ``outcome.outbox_id``. The row is
due when its chain may serve again (the gateway's recovery function: a breaker's half-open
time, a cooldown's or a quota period's end), not after a blind backoff.
A write that ends ``UNCERTAIN`` (a provider may have performed it) is stored ``held``:
it is replayed only when someone asks (``outbox retry ID``), never blindly.

:meth:`Outbox.replay` claims due rows, sends each through the chain with its idempotency
key (so the ledger, and providers that honour keys, turn a repeat into a no-op), and
settles it: ``done``, ``pending`` again after a backoff, ``held``, or ``dead`` after
``max_attempts``. A replay that found every provider unavailable tried none: its attempt is
not counted and the row is due again when the chain recovers.

A row found ``in_flight`` with its lease ended is an interrupted attempt: its replayer
stopped (killed, crashed, lost its connection) while sending it, perhaps after the
provider performed it. If every provider of the capability's chain honours idempotency
keys, sending it again with the same key is safe: it becomes ``pending`` after a backoff
(the attempt counts, so a row that crashes every replayer dies after ``max_attempts``).
Otherwise it is ``held`` for a decision, like an ``UNCERTAIN`` write: never sent blindly.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
from loguru import logger as _loguru

from aicmo_gateway.logs import add_call_context
from aicmo_gateway.outcome import Action, Outcome, Status
from aicmo_gateway.state.outbox.backend import (
    FINISHED,
    OutboxBackend,
    OutboxSettings,
    Row,
    RowState,
    Settlement,
    backoff,
    redact_url,
)
from aicmo_gateway.state.outbox.records import RecordError, decode, encode

__all__ = [
    "Outbox",
    "OutboxSettings",
    "Recovery",
    "ReplayReport",
    "ResendsSafely",
    "Row",
    "RowState",
    "open_backend",
    "redact_url",
]

#: sends one stored write through its chain: (capability, operation, payload, key) -> outcome
Sender = Callable[[str, str, Any, str], Awaitable[Outcome]]

#: whether a capability's chain may send a row again safely (every provider honours keys)
ResendsSafely = Callable[[str], bool]

#: seconds until a capability's chain may serve again, and which provider first
#: (``0``: one may now; ``inf``: no known deadline)
Recovery = Callable[[str], Awaitable[tuple[float, "str | None"]]]

#: set while a row is replayed, so its outcome is not stored a second time
_REPLAYING: contextvars.ContextVar[bool] = contextvars.ContextVar("outbox_replaying", default=False)

#: a write stored (or not) while its call runs: the line names the call
logger = _loguru.patch(add_call_context)


def open_backend(url: str, base_dir: Path | None = None) -> OutboxBackend:
    """The backend a URL names: ``sqlite:///relative.db``, ``sqlite:////abs.db``,
    ``postgresql://...``. A relative SQLite path is relative to ``base_dir``."""
    if url.startswith("sqlite:///"):
        from aicmo_gateway.state.outbox.sqlite import SqliteBackend

        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return SqliteBackend(path)
    if url.startswith(("postgresql://", "postgres://")):
        from aicmo_gateway.state.outbox.postgres import PostgresBackend

        return PostgresBackend(url)
    raise ValueError(
        f"unknown outbox URL {redact_url(url)!r}: use sqlite:///outbox.db or postgresql://..."
    )


@attrs.frozen
class ReplayReport:
    """What one :meth:`Outbox.replay` pass did, by the state each row ended in."""

    claimed: int = 0
    done: int = 0
    pending: int = 0
    held: int = 0
    dead: int = 0
    #: rows another replayer took over (their lease ended before this one settled them)
    lost: int = 0
    #: rows found in flight whose replayer had stopped: made pending again, held or dead
    interrupted: int = 0

    def to_json(self) -> dict[str, int]:
        return attrs.asdict(self)


class Outbox:
    """A backend with the gateway's rules for storing, replaying and settling rows."""

    def __init__(
        self,
        backend: OutboxBackend,
        settings: OutboxSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self._clock = clock
        self._send: Sender | None = None
        self._resends_safely: ResendsSafely = lambda capability: False
        self._recovery: Recovery | None = None
        self.owner = f"{uuid.uuid4().hex[:12]}"

    def bind(
        self,
        send: Sender,
        resends_safely: ResendsSafely | None = None,
        recovery: Recovery | None = None,
    ) -> None:
        """Give the outbox the way to send a row through its chain (the gateway does), the
        way to know whether a chain may send an interrupted row again (default: no), and
        when a chain may serve again (default: unknown, so a row is due at once)."""
        self._send = send
        if resends_safely is not None:
            self._resends_safely = resends_safely
        if recovery is not None:
            self._recovery = recovery

    async def _due(self, outcome: Outcome, now: float) -> tuple[float, str | None]:
        """When a write no provider performed is worth trying again, and why then.

        The earliest moment a provider of its chain may serve (a breaker half-opens, a
        cooldown or quota period ends); when every provider was skipped and that moment
        is not known, after the first backoff; else at once.
        """
        wait, first = math.inf, None
        if self._recovery is not None:
            try:
                wait, first = await self._recovery(outcome.capability)
            except Exception:  # not configured any more, closed: no known moment
                wait, first = math.inf, None
        skipped = ""
        if unavailable(outcome):  # say why each was skipped: the chain's reason does not
            skipped = "; ".join(f"{a.provider}: {a.detail}" for a in outcome.attempts)
            skipped = f"skipped {skipped}; " if skipped else ""
        if 0 < wait < math.inf:
            when = datetime.fromtimestamp(round(now + wait), UTC).isoformat()
            return now + wait, f"{skipped}due at {when}, when {first} may serve again"
        if not skipped:
            return now, None
        wait = backoff(1, self.settings.backoff, self.settings.backoff_max)
        return now + wait, f"{skipped}due in {wait:.0f}s (when a provider recovers is not known)"

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # -- storing -----------------------------------------------------------------------

    async def on_write_end(self, outcome: Outcome, payload: Any) -> Outcome:
        """The chain's hook: store a write no provider performed; leave the rest alone."""
        if _REPLAYING.get() or outcome.idempotency_key is None:
            return outcome
        if outcome.status is Status.FAILED:
            if any(attempt.ok for attempt in outcome.attempts):
                return outcome  # a fanout some providers performed: not "none performed"
            state = RowState.PENDING
        elif outcome.status is Status.UNCERTAIN:
            state = RowState.HELD
        else:
            return outcome
        try:
            text = encode(payload)
        except RecordError as exc:
            logger.warning(
                "{}.{}: not stored in the outbox: {}", outcome.capability, outcome.operation, exc
            )
            return outcome
        now = self._clock()
        due, note = now, None
        if state is RowState.PENDING:
            due, note = await self._due(outcome, now)
        reason = outcome.reason if note is None else f"{outcome.reason}; {note}"
        try:
            row_id, _ = await self._run(
                self.backend.enqueue,
                outcome.capability,
                outcome.operation,
                outcome.idempotency_key,
                text,
                state,
                reason,
                outcome.call_id,
                now,
                due,
            )
        except Exception as exc:  # the outbox is down: the caller gets the chain's outcome
            logger.warning(
                "could not store {}.{} in the outbox {}: {}",
                outcome.capability,
                outcome.operation,
                self.backend,
                type(exc).__name__,
            )
            return outcome
        if state is RowState.HELD:
            return attrs.evolve(outcome, outbox_id=str(row_id))
        return attrs.evolve(
            outcome,
            status=Status.DEFERRED,
            outbox_id=str(row_id),
            reason=f"{reason}; stored in the outbox as {row_id}, to be replayed",
        )

    # -- replaying ---------------------------------------------------------------------

    async def replay(self, *, limit: int | None = None) -> ReplayReport:
        """Claim the due rows (at most ``limit``, default one batch) and send each once."""
        limit = self.settings.batch if limit is None else limit
        now = self._clock()
        stopped: list[RowState] = []

        def interrupted(row: Row) -> Settlement:
            settled = self._interrupted(row, now)
            stopped.append(settled.state)
            return settled

        rows: list[Row] = await self._run(
            self.backend.claim, self.owner, now, self.settings.lease, limit, interrupted
        )
        counts: dict[str, int] = {"claimed": len(rows), "interrupted": len(stopped)}
        for row in rows:
            ended = await self._replay_row(row)
            counts[ended] = counts.get(ended, 0) + 1
        return ReplayReport(**counts)

    def _interrupted(self, row: Row, now: float) -> Settlement:
        """What becomes of a row whose replayer stopped while sending it (lease ended).

        The attempt was counted when it was claimed. It may have been performed: sent
        again only where every provider of its chain honours the key, after a backoff (so
        it does not take the head of the queue again at once), else held for a decision.
        """
        stopped = "a replayer stopped while sending it"
        if not self._resends_safely(row.capability):
            return Settlement(
                RowState.HELD,
                row.next_attempt_at,
                f"{stopped}; it may have been sent: check, then "
                f"`aicmo-gateway outbox retry {row.id}`",
            )
        if row.attempts >= self.settings.max_attempts:
            return Settlement(
                RowState.DEAD, now, f"{stopped}; gave up after {row.attempts} attempts"
            )
        wait = backoff(row.attempts, self.settings.backoff, self.settings.backoff_max)
        return Settlement(
            RowState.PENDING,
            now + wait,
            f"{stopped}; sent again with the same idempotency key, which its providers honour",
        )

    async def retry(self, row_id: int) -> Row | None:
        """Replay one row now, whatever its state (a held row is replayed only this way).

        Returns the row afterwards, or ``None`` when there is no such row. A row already
        done is left alone; a row leased to a live replayer is left to it.
        """
        await self._run(self.backend.reset, row_id, self._clock())
        row = await self._run(
            self.backend.claim_one, row_id, self.owner, self._clock(), self.settings.lease
        )
        if row is not None:
            await self._replay_row(row)
        found: Row | None = await self._run(self.backend.get, row_id)
        return found

    async def _replay_row(self, row: Row) -> str:
        error: str | None
        call_id: str | None = None
        if row.attempts > self.settings.max_attempts:
            state, error = RowState.DEAD, f"{row.last_error or 'no error recorded'}; gave up "
            error += f"after {row.attempts - 1} attempts"
        else:
            state, error, call_id, skipped = await self._attempt(row)
        now = self._clock()
        due = now
        uncount = False
        if skipped is not None:
            # no provider was available to try it: not an attempt; due when one recovers
            uncount = True
            due, note = await self._due(skipped, now)
            error = error if note is None else f"{error}; {note}"
        elif state is RowState.PENDING:
            if row.attempts >= self.settings.max_attempts:
                state = RowState.DEAD
                error = f"{error}; gave up after {row.attempts} attempts"
            else:
                due = now + backoff(row.attempts, self.settings.backoff, self.settings.backoff_max)
        settled = await self._run(
            self.backend.finish, row.id, self.owner, state, due, error, call_id, now, uncount
        )
        return state.value if settled else "lost"

    async def _attempt(self, row: Row) -> tuple[RowState, str | None, str | None, Outcome | None]:
        """How sending the row went: its next state, the error, the call id, and the
        outcome when every provider was unavailable (then nothing was tried)."""
        if self._send is None:
            raise RuntimeError("this outbox is not bound to a gateway: use gateway.outbox")
        try:
            payload = decode(row.payload)
        except (RecordError, TypeError, ValueError) as exc:
            return RowState.DEAD, f"the stored payload cannot be read: {exc}", None, None
        token = _REPLAYING.set(True)
        try:
            outcome = await self._send(row.capability, row.operation, payload, row.idempotency_key)
        except Exception as exc:  # not configured any more, closed, ...: try again later
            return RowState.PENDING, f"{type(exc).__name__}: {exc}", None, None
        finally:
            _REPLAYING.reset(token)
        status, call_id = outcome.status, outcome.call_id
        if status in (Status.OK, Status.SIMULATED):
            return RowState.DONE, None, call_id, None
        if status is Status.UNCERTAIN:
            return RowState.HELD, outcome.reason, call_id, None
        if status is Status.REJECTED:
            return RowState.DEAD, outcome.reason, call_id, None
        skipped = outcome if status is Status.FAILED and unavailable(outcome) else None
        return RowState.PENDING, outcome.reason, call_id, skipped

    # -- looking and cleaning ----------------------------------------------------------

    async def get(self, row_id: int) -> Row | None:
        found: Row | None = await self._run(self.backend.get, row_id)
        return found

    async def rows(self, state: RowState | None = None, limit: int = 100) -> list[Row]:
        found: list[Row] = await self._run(self.backend.rows, state, limit)
        return found

    async def counts(self) -> dict[str, int]:
        found: dict[str, int] = await self._run(self.backend.counts)
        return found

    async def purge(
        self, states: tuple[RowState, ...] = (RowState.DONE,), older_than: float = 0.0
    ) -> int:
        """Delete rows in ``states`` (done and dead only) last changed ``older_than`` ago."""
        wrong = [s.value for s in states if s not in FINISHED]
        if wrong:
            raise ValueError(f"purge removes done and dead rows only, not {', '.join(wrong)}")
        gone: int = await self._run(self.backend.purge, states, self._clock() - older_than)
        return gone

    def close(self) -> None:
        self.backend.close()


def unavailable(outcome: Outcome) -> bool:
    """Whether the chain tried no provider: every one was skipped as unavailable (breaker
    open, cooling down, quota or rate limit spent)."""
    attempts = outcome.attempts
    return bool(attempts) and all(attempt.action is Action.SKIP for attempt in attempts)
