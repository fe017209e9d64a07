"""A small CRM in one SQLite file: contacts upserted by email, and their engagements.

Safe to share between threads and processes: every call opens its own
connection, the database runs in WAL mode with a busy timeout, and each write
is one ``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so
two writers queue instead of failing half-way).

Upserts merge: a field passed as ``None`` keeps the stored value, tags are
added to the stored ones, and attributes are merged key by key. An engagement
with an ``external_id`` already logged for the same contact and kind is not
logged twice.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

import aicmo_gateway.ports as ports  # a lazy package: the records load on first use
from aicmo_gateway.errors import InvalidInput, Unavailable

# sqlite3 loads when the first connection is opened, so listing the built-in types stays cheap
if TYPE_CHECKING:
    import sqlite3

    from aicmo_gateway.ports import Contact, CrmRecord, Engagement

__all__ = ["SCHEMA_VERSION", "SqliteCrm"]

SCHEMA_VERSION = 1

_FIELDS = ("first_name", "last_name", "company", "title", "phone", "website", "linkedin_url")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    first_name TEXT, last_name TEXT, company TEXT, title TEXT,
    phone TEXT, website TEXT, linkedin_url TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS engagements (
    id INTEGER PRIMARY KEY,
    contact_email TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    external_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS engagements_external
    ON engagements (contact_email, kind, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS engagements_by_contact ON engagements (contact_email, occurred_at);
"""

_UPSERT = f"""
INSERT INTO contacts (email, {", ".join(_FIELDS)}, tags, attributes, created_at, updated_at)
VALUES (?, {", ".join("?" for _ in _FIELDS)}, ?, ?, ?, ?)
ON CONFLICT (email) DO UPDATE SET
    {", ".join(f"{f} = COALESCE(excluded.{f}, contacts.{f})" for f in _FIELDS)},
    tags = excluded.tags,
    attributes = excluded.attributes,
    updated_at = excluded.updated_at
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _json(value: Any, field: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{field}: cannot be stored as JSON ({exc}); convert dates and other objects "
            "to strings first",
            field=field,
        ) from None


@attrs.frozen
class SqliteCrm:
    """Contacts and engagements in a SQLite file, created on first use."""

    path: Path = attrs.field(converter=Path)
    #: seconds to wait for another writer before giving up
    timeout: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))

    # -- the port ----------------------------------------------------------------

    def check(self) -> None:
        """Open the database, creating or verifying its schema; raise ``Unavailable``."""
        with self._connect() as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            missing = {"contacts", "engagements"} - tables
            if missing:
                raise Unavailable(
                    f"sqlite CRM {str(self.path)!r}: the tables {sorted(missing)} are missing "
                    "although the schema version says they exist; restore or move the file"
                )

    def upsert_contact(self, contact: Contact) -> CrmRecord:
        return self.upsert_contacts([contact])[0]

    def upsert_contacts(self, contacts: Sequence[Contact]) -> list[CrmRecord]:
        """Upsert several contacts in one transaction."""
        rows = [self._row(contact) for contact in contacts]
        with self._transaction() as conn:
            return [
                self._upsert(conn, contact, row)
                for contact, row in zip(contacts, rows, strict=True)
            ]

    def log_engagement(self, engagement: Engagement) -> CrmRecord:
        metadata = _json(dict(engagement.metadata), "Engagement.metadata")
        with self._transaction() as conn:
            if engagement.external_id is not None:
                found = conn.execute(
                    "SELECT id FROM engagements"
                    " WHERE contact_email = ? AND kind = ? AND external_id = ?",
                    (engagement.contact_email, engagement.kind, engagement.external_id),
                ).fetchone()
                if found is not None:
                    return ports.CrmRecord(id=str(found[0]), kind="engagement", created=False)
            cursor = conn.execute(
                "INSERT INTO engagements (contact_email, kind, occurred_at, subject, body,"
                " external_id, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    engagement.contact_email,
                    engagement.kind,
                    engagement.occurred_at.astimezone(UTC).isoformat(),
                    engagement.subject,
                    engagement.body,
                    engagement.external_id,
                    metadata,
                    _now(),
                ),
            )
            return ports.CrmRecord(id=str(cursor.lastrowid), kind="engagement", created=True)

    # -- reading, for people and tests -------------------------------------------

    def get_contact(self, email: str) -> Contact | None:
        """The stored contact with this address (any case), or ``None``."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT email, {', '.join(_FIELDS)}, tags, attributes FROM contacts"
                " WHERE email = ?",
                (email.strip().lower(),),
            ).fetchone()
        if row is None:
            return None
        fields = dict(zip(_FIELDS, row[1:-2], strict=True))
        return ports.Contact(
            email=row[0], tags=json.loads(row[-2]), attributes=json.loads(row[-1]), **fields
        )

    def engagements(self, email: str) -> list[Engagement]:
        """The engagements logged for this address, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT contact_email, kind, occurred_at, subject, body, external_id, metadata"
                " FROM engagements WHERE contact_email = ? ORDER BY occurred_at, id",
                (email.strip().lower(),),
            ).fetchall()
        return [
            ports.Engagement(
                contact_email=row[0],
                kind=row[1],
                occurred_at=datetime.fromisoformat(row[2]),
                subject=row[3],
                body=row[4],
                external_id=row[5],
                metadata=json.loads(row[6]),
            )
            for row in rows
        ]

    # -- internals ---------------------------------------------------------------

    @staticmethod
    def _row(contact: Contact) -> dict[str, Any]:
        _json(list(contact.tags), "Contact.tags")
        _json(dict(contact.attributes), "Contact.attributes")
        return {f: getattr(contact, f) for f in _FIELDS}

    @staticmethod
    def _upsert(conn: sqlite3.Connection, contact: Contact, row: Mapping[str, Any]) -> CrmRecord:
        stored = conn.execute(
            "SELECT id, tags, attributes FROM contacts WHERE email = ?", (contact.email,)
        ).fetchone()
        tags = list(json.loads(stored[1])) if stored else []
        tags += [tag for tag in contact.tags if tag not in tags]
        attributes = {**(json.loads(stored[2]) if stored else {}), **contact.attributes}
        now = _now()
        cursor = conn.execute(
            _UPSERT,
            (
                contact.email,
                *(row[f] for f in _FIELDS),
                _json(tags, "Contact.tags"),
                _json(attributes, "Contact.attributes"),
                now,
                now,
            ),
        )
        rowid = stored[0] if stored else cursor.lastrowid
        return ports.CrmRecord(id=str(rowid), kind="contact", created=stored is None)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection with the schema in place (created or migrated on first use)."""
        import sqlite3

        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                self._migrate(conn, version)
            yield conn
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        finally:
            conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: the write lock is taken first, committed or rolled back."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise Unavailable(
                f"sqlite CRM {str(self.path)!r} has schema version {version}, newer than this "
                f"aicmo-gateway understands ({SCHEMA_VERSION}); upgrade aicmo-gateway"
            )
        from aicmo_gateway.state.sqlite_wal import enable_wal  # (sqlite3: on first use)

        enable_wal(conn, self.timeout)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:  # not done meanwhile
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _unavailable(self, exc: sqlite3.Error) -> Unavailable:
        return Unavailable(
            f"sqlite CRM {str(self.path)!r}: {exc}; check that the file's folder exists and is "
            "writable, and that no other program holds a long write lock on it"
        )
