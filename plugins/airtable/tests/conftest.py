"""A contract fake of the Airtable Web API on a real local HTTP server (pytest-httpserver).

Written from Airtable's documentation (airtable.com/developers/web/api, support.airtable.com,
fetched 2026-11):

- "Update multiple records" (``PATCH /v0/{baseId}/{tableIdOrName}``): at most 10 records;
  ``performUpsert.fieldsToMergeOn`` (1 to 3 fields) creates the records that match none and
  updates the ones that match; the answer lists ``records`` in request order, plus
  ``createdRecords`` and ``updatedRecords`` (ids); ``typecast``
- "Create records" (``POST``): at most 10 records, the answer lists them in order
- "List records" (``GET``): ``maxRecords``, ``pageSize``
- "Errors": ``{"error": {"type", "message"}}``; 401 ``AUTHENTICATION_REQUIRED``; 402
  ``PUBLIC_API_BILLING_LIMIT_EXCEEDED``; 403 ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND``; 404
  ``NOT_FOUND``; 413; 422 ``INVALID_REQUEST_UNKNOWN``, ``UNKNOWN_FIELD_NAME``; 429
  ``RATE_LIMIT_REACHED``; 500, 502, 503
- "Rate limits" / "Managing API call limits": 5 requests per second per base; after a 429,
  wait 30 seconds before requests succeed again
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import unquote

import attrs
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]

COLUMNS = {
    "Contacts": {
        "Email",
        "First Name",
        "Last Name",
        "Company",
        "Title",
        "Phone",
        "Website",
        "LinkedIn",
        "Tags",
        "Score",
    },
    "Engagements": {"Email", "Kind", "Date", "Subject", "Body", "External ID", "Metadata"},
}


@attrs.define
class Canned:
    status: int
    body: Any
    headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0
    #: handle the request normally first (the records are written), then answer with this
    process: bool = False


@attrs.define
class Seen:
    method: str
    table: str
    headers: dict[str, str]
    args: dict[str, str]
    body: Any


def error(status: int, kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


class FakeAirtable:
    """Airtable's documented behaviour for one base with a Contacts and an Engagements table."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.base_id = "app" + uuid.uuid4().hex[:14]
        self.token = "pat" + uuid.uuid4().hex[:14] + ".secretpart0123456789"
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in COLUMNS}
        self.requests: list[Seen] = []
        self._canned: list[Canned] = []
        self._lock = threading.Lock()
        prefix = re.compile(rf"^/v0/{self.base_id}/[^/]+$")
        server.expect_request(prefix).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def answer_next(self, status: int, body: Any, **options: Any) -> None:
        self._canned.append(Canned(status, body, **options))

    def records(self, table: str = "Contacts") -> list[dict[str, Any]]:
        return list(self.tables[table].values())

    # -- the handler ---------------------------------------------------------------------------

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        text = body if isinstance(body, str) else json.dumps(body)
        return Response(text, status=status, headers=headers or {}, content_type="application/json")

    def _handle(self, request: Request) -> Response:
        table = unquote(request.path.rsplit("/", 1)[1])
        try:
            body = json.loads(request.get_data()) if request.get_data() else None
        except ValueError:
            body = "<not JSON>"
        with self._lock:
            self.requests.append(
                Seen(request.method, table, dict(request.headers), dict(request.args), body)
            )
            canned = self._canned.pop(0) if self._canned else None
        if canned is not None and not canned.process:
            time.sleep(canned.delay)
            return self._reply(canned.status, canned.body, canned.headers)
        answer = self._serve(request, table, body)
        if canned is not None:
            time.sleep(canned.delay)
            return self._reply(canned.status, canned.body, canned.headers)
        return answer

    def _serve(self, request: Request, table: str, body: Any) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(
                401, error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
            )
        if table not in self.tables:
            return self._reply(404, error(404, "NOT_FOUND", f"Could not find table {table}"))
        rows = self.tables[table]
        if request.method == "GET":
            count = int(request.args.get("maxRecords", "100"))
            return self._reply(200, {"records": [self._out(i, r) for i, r in rows.items()][:count]})
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return self._reply(
                422,
                error(
                    422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed"
                ),
            )
        records = body["records"]
        if not 1 <= len(records) <= 10:
            return self._reply(
                422,
                error(
                    422, "INVALID_RECORDS", "You must provide an array of up to 10 record objects"
                ),
            )
        for record in records:
            for column in record.get("fields", {}):
                if column not in COLUMNS[table]:
                    return self._reply(
                        422, error(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{column}"')
                    )
        with self._lock:
            if request.method == "POST":
                ids = [self._create(rows, r["fields"]) for r in records]
                return self._reply(200, {"records": [self._out(i, rows[i]) for i in ids]})
            merge = (body.get("performUpsert") or {}).get("fieldsToMergeOn")
            if not merge:
                return self._reply(
                    422,
                    error(
                        422, "INVALID_REQUEST_UNKNOWN", "records need an id without performUpsert"
                    ),
                )
            keys = [tuple(r["fields"].get(c) for c in merge) for r in records]
            if len(set(keys)) != len(keys):
                return self._reply(
                    422,
                    error(422, "INVALID_VALUE_FOR_UPSERT", "Multiple records in the request match"),
                )
            created, updated, ids = [], [], []
            for record, key in zip(records, keys, strict=True):
                found = [i for i, r in rows.items() if tuple(r.get(c) for c in merge) == key]
                if found:
                    rows[found[0]].update(record["fields"])
                    updated.append(found[0])
                    ids.append(found[0])
                else:
                    new = self._create(rows, record["fields"])
                    created.append(new)
                    ids.append(new)
            return self._reply(
                200,
                {
                    "records": [self._out(i, rows[i]) for i in ids],
                    "createdRecords": created,
                    "updatedRecords": updated,
                },
            )

    @staticmethod
    def _create(rows: dict[str, dict[str, Any]], fields: dict[str, Any]) -> str:
        record_id = "rec" + uuid.uuid4().hex[:14]
        rows[record_id] = dict(fields)
        return record_id

    @staticmethod
    def _out(record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {"id": record_id, "createdTime": "2026-11-30T10:00:00.000Z", "fields": fields}


@pytest.fixture
def airtable(threaded_httpserver: HTTPServer) -> FakeAirtable:
    return FakeAirtable(threaded_httpserver)


@pytest.fixture
def settings(airtable: FakeAirtable) -> dict[str, Any]:
    """Config keys for a provider on the fake's base, as a config file would give them."""
    return {
        "api_key": airtable.token,
        "base_id": airtable.base_id,
        "table": "Contacts",
        "engagements_table": "Engagements",
        "base_url": airtable.url,
        "timeout": 5.0,
    }
