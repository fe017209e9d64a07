"""``AirtableCrm``: the ``crm_sync`` provider that writes to an Airtable base.

Contacts are upserted with ``PATCH /v0/{base}/{table}`` and ``performUpsert.fieldsToMergeOn``
(``merge_on``), at most 10 records per request; Airtable answers which records it created and
which it updated. Engagements go to ``engagements_table``: one with an ``external_id`` is
upserted on (contact, kind, external id), so it is never logged twice (as in the SQLite
mini-CRM); one without is created with ``POST``. No formula is built, so no user data is ever
pasted into one.

Every request of every provider instance on the same base in this process goes through one
:class:`~aicmo_gateway.http.RequestPacer`: at most 5 requests start in any second, and after a
429 every caller is refused for Airtable's 30 seconds (or its ``Retry-After``), without sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from loguru import logger

from aicmo_gateway import Ambiguous, RateLimited, Secret, Unavailable
from aicmo_gateway.http import HttpClient, HttpResponse, RequestPacer
from aicmo_gateway.ports import Contact, CrmRecord, Engagement
from aicmo_gateway_airtable.errors import error_of, raise_for
from aicmo_gateway_airtable.plugin import BATCH_SIZE
from aicmo_gateway_airtable.records import contact_fields, engagement_fields
from aicmo_gateway_airtable.settings import AirtableSettings

__all__ = ["REQUESTS_PER_SECOND", "AirtableCrm"]

#: Airtable's limit of requests per second per base (records per request: ``BATCH_SIZE``)
REQUESTS_PER_SECOND = 5


class AirtableCrm:
    """Contacts and engagements in one Airtable base."""

    def __init__(self, settings: AirtableSettings, *, transport: Any = None) -> None:
        self.settings = settings
        self.http = HttpClient(
            settings.base_url,
            timeout=settings.timeout,
            headers={"Authorization": Secret(f"Bearer {settings.api_key.reveal()}")},
            provider="airtable",
            transport=transport,
        )
        self.pacer = RequestPacer.shared(
            ("airtable", self.http.base_url, settings.base_id),
            REQUESTS_PER_SECOND,
            1.0,
            max_wait=settings.timeout,
            name=f"airtable base {settings.base_id}",
        )
        self._log = logger.bind(provider_type="airtable", base=settings.base_id)

    def __repr__(self) -> str:
        return f"AirtableCrm(base_id={self.settings.base_id!r}, table={self.settings.table!r})"

    # -- the port ----------------------------------------------------------------------------

    async def upsert_contact(self, contact: Contact) -> CrmRecord:
        (record,) = await self.upsert_contacts([contact])
        return record

    async def upsert_contacts(self, contacts: Sequence[Contact]) -> list[CrmRecord]:
        """Upsert contacts, 10 per request; one ``CrmRecord`` per contact, in order."""
        rows = [contact_fields(contact, self.settings.fields) for contact in contacts]
        for contact, row in zip(contacts, rows, strict=True):
            missing = [c for c in self.settings.merge_on if c not in row]
            if missing:
                raise Unavailable(
                    f"airtable: contact {contact.email!r} has no value for the merge_on "
                    f"column(s) {missing}; Airtable cannot match it (another CRM may take it)"
                )
        results: list[CrmRecord] = []
        for batch in self._batches(rows):
            results.extend(await self._upsert(self.settings.table, batch, "contact"))
        return results

    async def log_engagement(self, engagement: Engagement) -> CrmRecord:
        table = self.settings.engagements_table
        if table is None:
            raise Unavailable(
                "airtable: no engagements_table is configured; set engagements_table = "
                "'Engagements' to log engagements in Airtable"
            )
        columns = self.settings.engagement_fields
        row = engagement_fields(engagement, columns)
        keys = [columns.get(f) for f in ("contact_email", "kind", "external_id")]
        if engagement.external_id is not None and all(keys):
            (record,) = await self._upsert(table, [row], "engagement", merge_on=keys)
            return record
        body = {"records": [{"fields": row}], "typecast": self.settings.typecast}
        answer = await self._request("POST", table, body)
        (created,) = _records(answer, 1)
        return CrmRecord(id=created, kind="engagement", created=True, url=self._url(table, created))

    async def check(self) -> None:
        """List at most one record of each configured table (``data.records:read`` scope)."""
        tables = [self.settings.table]
        if self.settings.engagements_table is not None:
            tables.append(self.settings.engagements_table)
        for table in tables:
            await self._send("GET", table, params={"maxRecords": 1, "pageSize": 1}, write=False)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    # -- internals ------------------------------------------------------------------------------

    def _batches(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Rows in order, at most 10 a batch, no two with the same merge key in one batch."""
        batches: list[list[dict[str, Any]]] = []
        keys: set[tuple[str, ...]] = set()
        for row in rows:
            key = tuple(str(row[c]).strip().lower() for c in self.settings.merge_on)
            if not batches or len(batches[-1]) >= BATCH_SIZE or key in keys:
                batches.append([])
                keys = set()
            batches[-1].append(row)
            keys.add(key)
        return batches

    async def _upsert(
        self,
        table: str,
        rows: list[dict[str, Any]],
        kind: str,
        *,
        merge_on: Sequence[str | None] | None = None,
    ) -> list[CrmRecord]:
        body = {
            "performUpsert": {"fieldsToMergeOn": list(merge_on or self.settings.merge_on)},
            "records": [{"fields": row} for row in rows],
            "typecast": self.settings.typecast,
        }
        answer = await self._request("PATCH", table, body)
        ids = _records(answer, len(rows))
        created = answer.get("createdRecords")
        if not isinstance(created, list):
            raise Ambiguous(
                "airtable: the upsert answer has no createdRecords list; the records may have "
                "been written"
            )
        fresh = set(created)
        self._log.debug("{} {}(s) upserted, {} created", len(ids), kind, len(fresh))
        return [
            CrmRecord(id=i, kind=kind, created=i in fresh, url=self._url(table, i)) for i in ids
        ]

    async def _request(self, method: str, table: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._send(method, table, json=body, write=True)
        answer = response.json()
        if not isinstance(answer, dict):
            raise Ambiguous(f"airtable: HTTP {response.status} answer is not a JSON object")
        return answer

    async def _send(
        self,
        method: str,
        table: str,
        *,
        write: bool,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> HttpResponse:
        path = f"/v0/{self.settings.base_id}/{quote(table, safe='')}"
        await self.pacer.acquire()
        response = await self.http.request(
            method, path, json=json, params=params, write=write, raise_for_status=False
        )
        try:
            raise_for(response, self.http)
        except RateLimited as limited:  # Airtable locks the whole base out: so do we
            self.pacer.lock_out(limited.retry_after or 0.0)
            self._log.debug("429 ({}): base locked out", error_of(response)[0])
            raise
        return response

    def _url(self, table: str, record_id: str) -> str | None:
        if not table.startswith("tbl"):
            return None
        return f"https://airtable.com/{self.settings.base_id}/{table}/{record_id}"


def _records(answer: dict[str, Any], count: int) -> list[str]:
    """The record ids of a write's answer, in the order the records were sent."""
    records = answer.get("records")
    ids = [r.get("id") for r in records if isinstance(r, dict)] if isinstance(records, list) else []
    if len(ids) != count or not all(isinstance(i, str) and i for i in ids):
        raise Ambiguous(
            f"airtable: the answer lists {len(ids)} record id(s) for {count} record(s) sent; "
            "the records may have been written"
        )
    return [str(i) for i in ids]
