"""The outbox's schema, one numbered migration at a time, for SQLite and PostgreSQL.

``outbox_schema`` records the versions applied; a backend applies the missing ones in
order, in one transaction, holding a lock so two processes starting together do not race.
A migration is never edited once released: a change is a new version.
"""

from __future__ import annotations

__all__ = ["LATEST", "MIGRATIONS", "SCHEMA_TABLE"]

SCHEMA_TABLE = "outbox_schema"

_TABLE = """
CREATE TABLE outbox (
    id {id},
    capability TEXT NOT NULL,
    operation TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    last_error TEXT,
    lease_until DOUBLE PRECISION,
    claimed_by TEXT,
    UNIQUE (capability, operation, idempotency_key)
)
"""

#: version -> dialect -> statements
MIGRATIONS: dict[int, dict[str, tuple[str, ...]]] = {
    # 1: the table, one row per (capability, operation, idempotency key)
    1: {
        "sqlite": (_TABLE.format(id="INTEGER PRIMARY KEY AUTOINCREMENT"),),
        "postgresql": (_TABLE.format(id="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),),
    },
    # 2: due pending rows by next attempt time, and leased rows by lease end (partial indexes,
    # so the index holds only the rows replay looks at, not the done ones)
    2: dict.fromkeys(
        ("sqlite", "postgresql"),
        (
            "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending'",
            "CREATE INDEX outbox_leased ON outbox (lease_until) WHERE state = 'in_flight'",
            "CREATE INDEX outbox_state ON outbox (state, updated_at)",
        ),
    ),
    # 3: the call id of the last call made for a row (to find it in the audit trail)
    3: dict.fromkeys(("sqlite", "postgresql"), ("ALTER TABLE outbox ADD COLUMN call_id TEXT",)),
}
LATEST = max(MIGRATIONS)
