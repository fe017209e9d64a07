"""The SQLite CRM upserts contacts by email, merges fields, de-duplicates engagements,
and stays exact when several processes write at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aicmo_gateway.builtin.sqlite_crm import SCHEMA_VERSION, SqliteCrm
from aicmo_gateway.errors import InvalidInput, Unavailable
from aicmo_gateway.ports import Contact, Engagement


@pytest.fixture
def crm(tmp_path: Path) -> SqliteCrm:
    return SqliteCrm(tmp_path / "crm.db")


def test_the_first_upsert_creates_the_contact(crm: SqliteCrm) -> None:
    record = crm.upsert_contact(Contact(email="ann@example.com", first_name="Ann"))
    assert record.kind == "contact"
    assert record.created is True
    assert record.performed is True


def test_a_second_upsert_updates_the_same_contact(crm: SqliteCrm) -> None:
    first = crm.upsert_contact(Contact(email="ann@example.com", first_name="Ann"))
    second = crm.upsert_contact(Contact(email="ann@example.com", first_name="Anne"))
    assert second.created is False
    assert second.id == first.id
    stored = crm.get_contact("ann@example.com")
    assert stored is not None
    assert stored.first_name == "Anne"


def test_contacts_are_identified_by_email_in_any_case(crm: SqliteCrm) -> None:
    crm.upsert_contact(Contact(email="Ann@Example.com"))
    assert crm.upsert_contact(Contact(email="ann@example.COM")).created is False
    assert crm.get_contact("ANN@example.com") is not None


def test_fields_passed_as_none_keep_their_stored_values(crm: SqliteCrm) -> None:
    crm.upsert_contact(Contact(email="ann@example.com", first_name="Ann", company="Acme"))
    crm.upsert_contact(Contact(email="ann@example.com", title="CTO"))
    stored = crm.get_contact("ann@example.com")
    assert stored is not None
    assert (stored.first_name, stored.company, stored.title) == ("Ann", "Acme", "CTO")


def test_tags_are_added_and_attributes_merged(crm: SqliteCrm) -> None:
    crm.upsert_contact(
        Contact(email="ann@example.com", tags=["lead"], attributes={"score": 1, "source": "web"})
    )
    crm.upsert_contact(
        Contact(email="ann@example.com", tags=["vip", "lead"], attributes={"score": 2})
    )
    stored = crm.get_contact("ann@example.com")
    assert stored is not None
    assert stored.tags == ("lead", "vip")
    assert dict(stored.attributes) == {"score": 2, "source": "web"}


def test_an_unknown_contact_reads_as_none(crm: SqliteCrm) -> None:
    assert crm.get_contact("nobody@example.com") is None


def test_a_batch_upsert_answers_one_record_per_contact_in_order(crm: SqliteCrm) -> None:
    crm.upsert_contact(Contact(email="b@example.com"))
    records = crm.upsert_contacts(
        [Contact(email="a@example.com"), Contact(email="b@example.com"), Contact(email="a@x.com")]
    )
    assert [r.created for r in records] == [True, False, True]
    assert len({r.id for r in records}) == 3


def test_a_batch_with_a_value_that_is_not_json_stores_nothing(crm: SqliteCrm) -> None:
    contacts = [
        Contact(email="a@example.com"),
        Contact(email="b@example.com", attributes={"seen": datetime.now(UTC)}),
    ]
    with pytest.raises(InvalidInput, match=r"Contact\.attributes"):
        crm.upsert_contacts(contacts)
    assert crm.get_contact("a@example.com") is None


def test_logging_an_engagement_creates_a_record(crm: SqliteCrm) -> None:
    record = crm.log_engagement(
        Engagement(contact_email="ann@example.com", kind="email_sent", subject="Hi")
    )
    assert record.kind == "engagement"
    assert record.created is True
    (stored,) = crm.engagements("ann@example.com")
    assert stored.subject == "Hi"


def test_an_engagement_with_a_known_external_id_is_not_logged_twice(crm: SqliteCrm) -> None:
    engagement = Engagement(
        contact_email="ann@example.com", kind="email_sent", external_id="<m1@example.com>"
    )
    first = crm.log_engagement(engagement)
    second = crm.log_engagement(engagement)
    assert second.created is False
    assert second.id == first.id
    assert len(crm.engagements("ann@example.com")) == 1


def test_the_same_external_id_of_another_kind_is_a_new_engagement(crm: SqliteCrm) -> None:
    crm.log_engagement(
        Engagement(contact_email="a@example.com", kind="email_sent", external_id="x")
    )
    record = crm.log_engagement(
        Engagement(contact_email="a@example.com", kind="email_reply", external_id="x")
    )
    assert record.created is True


def test_engagements_without_external_id_are_always_logged(crm: SqliteCrm) -> None:
    engagement = Engagement(contact_email="ann@example.com", kind="note", body="called")
    crm.log_engagement(engagement)
    crm.log_engagement(engagement)
    assert len(crm.engagements("ann@example.com")) == 2


def test_engagements_read_back_oldest_first_with_their_metadata(crm: SqliteCrm) -> None:
    now = datetime.now(UTC)
    for offset, subject in ((2, "later"), (1, "earlier")):
        crm.log_engagement(
            Engagement(
                contact_email="ann@example.com",
                kind="email_sent",
                occurred_at=now + timedelta(hours=offset),
                subject=subject,
                metadata={"campaign": "spring"},
            )
        )
    stored = crm.engagements("ann@example.com")
    assert [e.subject for e in stored] == ["earlier", "later"]
    assert dict(stored[0].metadata) == {"campaign": "spring"}
    assert stored[0].occurred_at == now + timedelta(hours=1)


def test_check_creates_the_schema_in_a_new_file(crm: SqliteCrm) -> None:
    crm.check()
    with sqlite3.connect(crm.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_from_a_newer_version_is_unavailable(crm: SqliteCrm) -> None:
    with sqlite3.connect(crm.path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(Unavailable, match="newer"):
        crm.check()


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "crm.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(Unavailable, match=r"crm\.db"):
        SqliteCrm(tmp_path / "crm.db").upsert_contact(Contact(email="a@example.com"))


def test_a_folder_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="missing"):
        SqliteCrm(tmp_path / "missing" / "crm.db").check()


# -- several processes at once -----------------------------------------------------

WORKER = """
from aicmo_gateway.builtin.sqlite_crm import SqliteCrm
from aicmo_gateway.ports import Contact, Engagement


def work(path, worker, count):
    crm = SqliteCrm(path, timeout=60)
    created, errors = 0, []
    for i in range(count):
        email = f"person{i}@example.com"
        try:
            record = crm.upsert_contact(Contact(email=email, tags=[f"w{worker}"]))
            created += record.created
            crm.log_engagement(
                Engagement(contact_email=email, kind="email_sent", external_id=f"{worker}.{i}")
            )
            crm.log_engagement(
                Engagement(contact_email=email, kind="email_reply", external_id=f"shared.{i}")
            )
        except Exception as exc:
            errors.append(repr(exc))
    return created, errors
"""


def test_four_processes_writing_the_same_contacts_leave_exact_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "crm_worker.py").write_text(textwrap.dedent(WORKER), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import crm_worker  # type: ignore[import-not-found]

    path, workers, count = str(tmp_path / "crm.db"), 4, 50
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(crm_worker.work, [(path, w, count) for w in range(workers)])

    assert [errors for _, errors in results] == [[]] * workers
    assert sum(created for created, _ in results) == count
    crm = SqliteCrm(path)
    for i in range(count):
        stored = crm.get_contact(f"person{i}@example.com")
        assert stored is not None
        assert sorted(stored.tags) == [f"w{w}" for w in range(workers)]
        kinds = [e.kind for e in crm.engagements(f"person{i}@example.com")]
        assert sorted(kinds) == ["email_reply"] + ["email_sent"] * workers
