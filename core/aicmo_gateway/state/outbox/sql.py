"""The SQL both outbox backends share; each backend supplies its transactions and dialect.

Statements are written with ``?`` placeholders; the PostgreSQL backend turns them into
``%s``. Every change happens in one transaction: a claim takes rows and marks them
``in_flight`` at once, so two replayers never take the same row while its lease runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from aicmo_gateway.state.outbox.backend import Interrupted, Row, RowState
from aicmo_gateway.state.outbox.migrations import LATEST, MIGRATIONS, SCHEMA_TABLE

__all__ = ["Execute", "SqlBackend"]

#: runs one statement in the open transaction, returns its rows as mappings
Execute = Callable[[str, tuple[Any, ...]], list[dict[str, Any]]]

_COLUMNS = (
    "id, capability, operation, idempotency_key, payload, state, attempts, next_attempt_at, "
    "created_at, updated_at, last_error, lease_until, claimed_by"
)


def _row(data: dict[str, Any]) -> Row:
    return Row(
        id=int(data["id"]),
        capability=data["capability"],
        operation=data["operation"],
        idempotency_key=data["idempotency_key"],
        payload=data["payload"],
        state=data["state"],
        attempts=int(data["attempts"]),
        next_attempt_at=float(data["next_attempt_at"]),
        created_at=float(data["created_at"]),
        updated_at=float(data["updated_at"]),
        last_error=data["last_error"],
        lease_until=None if data["lease_until"] is None else float(data["lease_until"]),
        claimed_by=data["claimed_by"],
        call_id=data.get("call_id"),
    )


class SqlBackend:
    """Everything but the connection: subclasses define ``dialect``, ``_tx`` and ``close``."""

    dialect = ""
    #: appended to the claim's row selection (PostgreSQL: ``FOR UPDATE SKIP LOCKED``)
    lock_rows = ""

    def _tx(self) -> AbstractContextManager[Execute]:
        raise NotImplementedError

    def _lock_schema(self, run: Execute) -> None:
        """Serialize migrations across processes (SQLite's write lock already does)."""

    #: set once the schema has ``call_id`` (version 3): versions only go up, so no more asking
    _has_call_id = False

    def _columns(self, run: Execute) -> str:
        if not self._has_call_id and self._version(run) >= 3:
            self._has_call_id = True
        return _COLUMNS + (", call_id" if self._has_call_id else "")

    def _version(self, run: Execute) -> int:
        found = run(f"SELECT MAX(version) AS v FROM {SCHEMA_TABLE}", ())
        return int(found[0]["v"] or 0) if found else 0

    # -- schema ----------------------------------------------------------------------

    def migrate(self, target: int | None = None) -> int:
        """Apply the missing migrations up to ``target`` (default: the latest)."""
        target = LATEST if target is None else target
        with self._tx() as run:
            self._lock_schema(run)
            run(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} "
                "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                (),
            )
            applied = {int(r["version"]) for r in run(f"SELECT version FROM {SCHEMA_TABLE}", ())}
            for version in sorted(MIGRATIONS):
                if version in applied or version > target:
                    continue
                for statement in MIGRATIONS[version][self.dialect]:
                    run(statement, ())
                run(
                    f"INSERT INTO {SCHEMA_TABLE} (version, applied_at) VALUES (?, ?)",
                    (version, time.time()),
                )
            return self._version(run)

    def version(self) -> int:
        with self._tx() as run:
            run(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} "
                "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                (),
            )
            return self._version(run)

    # -- rows ------------------------------------------------------------------------

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
        with self._tx() as run:
            made = run(
                "INSERT INTO outbox (capability, operation, idempotency_key, payload, state, "
                "attempts, next_attempt_at, created_at, updated_at, last_error, call_id) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?) "
                # the same key again: the row stands, unless it was dead (given up), then the
                # new failure brings it back with its attempts counted from zero
                "ON CONFLICT (capability, operation, idempotency_key) DO UPDATE SET "
                "state = excluded.state, attempts = 0, next_attempt_at = excluded.next_attempt_at, "
                "updated_at = excluded.updated_at, last_error = excluded.last_error, "
                "payload = excluded.payload WHERE outbox.state = 'dead' RETURNING id",
                (
                    capability,
                    operation,
                    key,
                    payload,
                    state.value,
                    now if due is None else due,
                    now,
                    now,
                    last_error,
                    call_id,
                ),
            )
            if made:
                return int(made[0]["id"]), True
            found = run(
                "SELECT id FROM outbox WHERE capability = ? AND operation = ? "
                "AND idempotency_key = ?",
                (capability, operation, key),
            )
            return int(found[0]["id"]), False

    def claim(
        self, owner: str, now: float, lease: float, limit: int, interrupted: Interrupted
    ) -> list[Row]:
        with self._tx() as run:
            columns = self._columns(run)
            # rows whose replayer stopped while sending them (their lease ended): the outbox
            # decides, row by row, whether they may be sent again or must wait for a person
            stopped = run(
                f"SELECT {columns} FROM outbox WHERE state = 'in_flight' AND lease_until < ? "
                f"ORDER BY id {self.lock_rows}",
                (now,),
            )
            for data in stopped:
                settled = interrupted(_row(data))
                run(
                    "UPDATE outbox SET state = ?, next_attempt_at = ?, last_error = ?, "
                    "lease_until = NULL, updated_at = ? WHERE id = ?",
                    (
                        settled.state.value,
                        settled.next_attempt_at,
                        settled.last_error,
                        now,
                        int(data["id"]),
                    ),
                )
            taken = run(
                "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, "
                "lease_until = ?, claimed_by = ?, updated_at = ? "
                "WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' "
                f"AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ? {self.lock_rows}) "
                f"RETURNING {columns}",
                (now + lease, owner, now, now, limit),
            )
        return sorted((_row(r) for r in taken), key=lambda r: (r.next_attempt_at, r.id))

    def claim_one(self, row_id: int, owner: str, now: float, lease: float) -> Row | None:
        with self._tx() as run:
            taken = run(
                "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, "
                "lease_until = ?, claimed_by = ?, updated_at = ? "
                "WHERE id = ? AND state <> 'done' "
                "AND (state <> 'in_flight' OR lease_until < ?) "
                f"RETURNING {self._columns(run)}",
                (now + lease, owner, now, row_id, now),
            )
        return _row(taken[0]) if taken else None

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
        # an attempt that found no provider available to try it is not counted
        uncounted = "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
        with self._tx() as run:
            done = run(
                "UPDATE outbox SET state = ?, next_attempt_at = ?, last_error = ?, "
                "call_id = COALESCE(?, call_id), updated_at = ?, lease_until = NULL, "
                + (uncounted if uncount else "")
                + "claimed_by = NULL WHERE id = ? AND claimed_by = ? "
                # held with a claimant: its lease ended while that replayer was still sending
                "AND (state = 'in_flight' OR (state = 'held' AND lease_until IS NULL)) "
                "RETURNING id",
                (state.value, next_attempt_at, last_error, call_id, now, row_id, owner),
            )
        return bool(done)

    def reset(self, row_id: int, now: float) -> bool:
        """Make a dead or held row pending again with its attempts counted from zero."""
        with self._tx() as run:
            done = run(
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, "
                "updated_at = ?, claimed_by = NULL WHERE id = ? AND state IN ('dead', 'held') "
                "RETURNING id",
                (now, now, row_id),
            )
        return bool(done)

    def get(self, row_id: int) -> Row | None:
        with self._tx() as run:
            found = run(f"SELECT {self._columns(run)} FROM outbox WHERE id = ?", (row_id,))
        return _row(found[0]) if found else None

    def rows(self, state: RowState | None, limit: int) -> list[Row]:
        with self._tx() as run:
            where, params = ("WHERE state = ?", (state.value,)) if state else ("", ())
            found = run(
                f"SELECT {self._columns(run)} FROM outbox {where} ORDER BY id LIMIT ?",
                (*params, limit),
            )
        return [_row(r) for r in found]

    def counts(self) -> dict[str, int]:
        with self._tx() as run:
            found = run("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state", ())
        counts = dict.fromkeys((s.value for s in RowState), 0)
        counts.update({r["state"]: int(r["n"]) for r in found})
        return counts

    def purge(self, states: tuple[RowState, ...], before: float) -> int:
        if not states:
            return 0
        marks = ", ".join("?" for _ in states)
        with self._tx() as run:
            gone = run(
                f"DELETE FROM outbox WHERE state IN ({marks}) AND updated_at < ? RETURNING id",
                (*(s.value for s in states), before),
            )
        return len(gone)
