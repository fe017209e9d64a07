"""The outbox backends every contract test runs against: SQLite and the real PostgreSQL.

PostgreSQL is at ``$AICMO_TEST_POSTGRES`` (default 127.0.0.1:5432, database ``test``).
Each test gets its own schema, dropped afterwards, so parallel runs do not collide.
Without a server the PostgreSQL cases are skipped locally, and fail when ``CI`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES = os.environ.get("AICMO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)


def postgres_or_skip() -> None:
    """Skip when the server is absent, unless ``CI`` is set (then the test fails)."""
    try:
        _admin().close()
    except Exception as exc:
        if os.environ.get("CI"):
            raise AssertionError(
                f"CI is set and PostgreSQL at {POSTGRES} is not reachable ({exc}); "
                ".ci/run starts it"
            ) from exc
        pytest.skip(f"PostgreSQL is not running at {POSTGRES} (CI would fail here)")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema's URL (search_path set to it); dropped with everything in it after."""
    postgres_or_skip()
    schema = f"outbox_test_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES else "?"
    try:
        yield f"{POSTGRES}{sep}options=-csearch_path%3D{schema}"
    finally:
        with _admin() as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty outbox: a SQLite file in a temporary folder, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    url: str = request.getfixturevalue("pg_schema")
    return url
