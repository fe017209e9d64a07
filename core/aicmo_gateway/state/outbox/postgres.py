"""The PostgreSQL outbox: for several workers on several hosts.

psycopg 3 (from the root of a checkout of the repository, which is not on PyPI yet:
``pip install '.[postgresql]'``). Replayers claim rows with
``FOR UPDATE SKIP LOCKED``: each takes rows nobody else holds, without waiting on them, so
many replayers share one table; partial indexes keep the search to pending and leased rows.
The tables go in the connection's ``search_path`` (set a schema with
``?options=-csearch_path%3Dmyschema`` in the URL). A broken connection is reopened once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aicmo_gateway.state.outbox.backend import redact_url
from aicmo_gateway.state.outbox.sql import Execute, SqlBackend

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresBackend"]

#: pg_advisory_xact_lock's key for migrations: "aicmo_ob" as a number
_MIGRATION_LOCK = int.from_bytes(b"aicmo_ob", "big") >> 1


class PostgresBackend(SqlBackend):
    dialect = "postgresql"
    lock_rows = "FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ImportError(
                "the PostgreSQL outbox needs psycopg 3: install the core's postgresql extra from "
                "the root of a checkout of the aicmo-gateway repository (it is not on PyPI yet) "
                "with: pip install '.[postgresql]'"
            ) from None
        self._url = url
        self._timeout = connect_timeout
        self._lock = threading.Lock()
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        import psycopg
        from psycopg.rows import dict_row

        try:
            return psycopg.connect(
                self._url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=max(1, int(self._timeout)),
            )
        except psycopg.Error as exc:
            # the server's message may quote the URL; name the target without its password
            raise ConnectionError(
                f"cannot connect to the outbox database {redact_url(self._url)}: "
                f"{type(exc).__name__}"
            ) from None

    @contextmanager
    def _tx(self) -> Iterator[Execute]:
        def run(sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
            cur = self._conn.execute(sql.replace("?", "%s"), params)
            return list(cur.fetchall()) if cur.description is not None else []

        with self._lock:
            if self._conn.closed or self._conn.broken:
                self._conn = self._connect()
            with self._conn.transaction():
                yield run

    def _lock_schema(self, run: Execute) -> None:
        run("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"PostgresBackend({redact_url(self._url)!r})"
