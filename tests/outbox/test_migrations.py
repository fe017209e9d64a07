"""The outbox schema's versioned migrations: from an empty database and from each version."""

from __future__ import annotations

import pytest

from aicmo_gateway.state.outbox import RowState, open_backend
from aicmo_gateway.state.outbox.migrations import LATEST, MIGRATIONS


def test_an_empty_database_is_migrated_to_the_latest_version(outbox_url):
    backend = open_backend(outbox_url)
    assert backend.version() == 0
    assert backend.migrate() == LATEST
    assert backend.migrate() == LATEST  # again: nothing to do
    row_id, created = backend.enqueue(
        "crm_sync", "upsert_contact", "k", "{}", RowState.PENDING, None, "call-1", 0.0
    )
    assert created and backend.get(row_id).call_id == "call-1"
    backend.close()


@pytest.mark.parametrize("start", sorted(v for v in MIGRATIONS if v < LATEST))
def test_each_earlier_version_is_migrated_with_its_rows_kept(outbox_url, start):
    old = open_backend(outbox_url)
    assert old.migrate(start) == start
    # a row written by that version's code (the columns version 1 had)
    with old._tx() as run:
        run(
            "INSERT INTO outbox (capability, operation, idempotency_key, payload, state, "
            "attempts, next_attempt_at, created_at, updated_at) "
            "VALUES ('email_sending', 'send', 'old', '\"x\"', 'pending', 2, 1.0, 1.0, 1.0)",
            (),
        )
    old.close()
    backend = open_backend(outbox_url)
    assert backend.version() == start
    assert backend.migrate() == LATEST
    [row] = backend.rows(None, 10)
    assert (row.idempotency_key, row.state, row.attempts) == ("old", RowState.PENDING, 2)
    assert row.call_id is None
    [claimed] = backend.claim("me", 10.0, 60.0, 10, lambda row: pytest.fail(f"{row} stopped"))
    assert claimed.attempts == 3
    backend.close()


def test_processes_starting_together_migrate_once(outbox_url):
    import threading

    versions: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            backend = open_backend(outbox_url)
            versions.append(backend.migrate())
            backend.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and versions == [LATEST] * 6
    backend = open_backend(outbox_url)
    with backend._tx() as run:
        applied = [r["version"] for r in run("SELECT version FROM outbox_schema", ())]
    backend.close()
    assert sorted(applied) == sorted(MIGRATIONS)
