"""What the provider sends to Airtable and what it returns: upserts, batches, engagements.

Follows airtable.com/developers/web/api "Update multiple records" (``performUpsert``,
``fieldsToMergeOn``, ``createdRecords``/``updatedRecords``, at most 10 records), "Create
records" and "List records"; the engagement semantics follow the core's SQLite mini-CRM (an
engagement with an external id already logged is not logged twice).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aicmo_gateway_airtable.plugin import airtable_crm

from aicmo_gateway import Gateway, InvalidInput, Status, Unavailable
from aicmo_gateway.ports import Contact, Engagement


def contacts(count: int, **changes: Any) -> list[Contact]:
    return [Contact(email=f"lead{n}@example.com", **changes) for n in range(count)]


async def test_an_upsert_patches_the_table_with_the_merge_columns_and_the_bearer_token(
    airtable, settings
):
    crm = airtable_crm(**settings, typecast=True, fields={"lead_score": "Score"})
    record = await crm.upsert_contact(
        Contact(
            email="Ann <Ann@Example.com>",
            first_name="Ann",
            company="Acme",
            tags=["lead", "q4"],
            attributes={"lead_score": 42, "ignored": "not mapped"},
        )
    )
    await crm.aclose()
    (seen,) = airtable.requests
    assert (seen.method, seen.table) == ("PATCH", "Contacts")
    assert seen.headers["Authorization"] == f"Bearer {airtable.token}"
    assert seen.body == {
        "performUpsert": {"fieldsToMergeOn": ["Email"]},
        "records": [
            {
                "fields": {
                    "Email": "ann@example.com",
                    "First Name": "Ann",
                    "Company": "Acme",
                    "Tags": ["lead", "q4"],
                    "Score": 42,
                }
            }
        ],
        "typecast": True,
    }
    assert record.kind == "contact" and record.created is True
    assert record.id == next(iter(airtable.tables["Contacts"]))


async def test_a_second_upsert_updates_the_same_record_and_keeps_fields_not_given(
    airtable, settings
):
    crm = airtable_crm(**settings)
    first = await crm.upsert_contact(Contact(email="ann@example.com", company="Acme"))
    second = await crm.upsert_contact(Contact(email="ann@example.com", title="CTO"))
    await crm.aclose()
    assert first.id == second.id
    assert (first.created, second.created) == (True, False)
    assert airtable.records() == [{"Email": "ann@example.com", "Company": "Acme", "Title": "CTO"}]


async def test_a_table_name_is_url_encoded_in_the_path(settings):
    import httpx
    from aicmo_gateway_airtable.crm import AirtableCrm
    from aicmo_gateway_airtable.settings import AirtableSettings

    paths: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path)
        body = {"records": [{"id": "rec1"}], "createdRecords": ["rec1"], "updatedRecords": []}
        return httpx.Response(200, json=body)

    table = "Leads / Q4?x=1#top"
    crm = AirtableCrm(
        AirtableSettings(**{**settings, "table": table}), transport=httpx.MockTransport(answer)
    )
    await crm.upsert_contact(Contact(email="ann@example.com"))
    await crm.aclose()
    assert paths == [f"/v0/{settings['base_id']}/Leads%20%2F%20Q4%3Fx%3D1%23top".encode()]


async def test_many_contacts_go_ten_per_request_in_order(airtable, settings):
    crm = airtable_crm(**settings)
    records = await crm.upsert_contacts(contacts(25))
    await crm.aclose()
    assert [len(r.body["records"]) for r in airtable.requests] == [10, 10, 5]
    sent = [rec["fields"]["Email"] for r in airtable.requests for rec in r.body["records"]]
    assert sent == [f"lead{n}@example.com" for n in range(25)]
    assert len({r.id for r in records}) == 25 and all(r.created for r in records)


async def test_the_same_contact_twice_in_a_batch_goes_in_two_requests(airtable, settings):
    crm = airtable_crm(**settings)
    batch = [Contact(email="a@example.com", company="A"), Contact(email="b@example.com")]
    batch.append(Contact(email="A@example.com", title="CEO"))
    records = await crm.upsert_contacts(batch)
    await crm.aclose()
    assert [len(r.body["records"]) for r in airtable.requests] == [2, 1]
    assert records[0].id == records[2].id and records[2].created is False
    assert len(airtable.records()) == 2


async def test_a_contact_without_a_merge_column_value_is_left_to_another_crm(airtable, settings):
    crm = airtable_crm(**settings, merge_on=["Email", "Company"])
    with pytest.raises(Unavailable, match="merge_on"):
        await crm.upsert_contact(Contact(email="ann@example.com"))
    assert airtable.requests == []


async def test_an_attribute_that_is_not_json_is_bad_input(airtable, settings):
    crm = airtable_crm(**settings, fields={"seen": "Score"})
    with pytest.raises(InvalidInput, match="seen"):
        await crm.upsert_contact(Contact(email="a@example.com", attributes={"seen": object()}))


async def test_a_hundred_contacts_through_the_gateway_take_exactly_ten_requests(airtable, settings):
    config = {
        "capabilities": {"crm_sync": {"providers": ["airtable"]}},
        "providers": {"airtable": {"type": "airtable", **settings}},
    }
    async with Gateway.from_config(config, env={}) as gateway:
        outcome = await gateway.crm_sync.upsert_contacts(contacts(100))
    assert outcome.status is Status.OK
    assert len(outcome.value) == 100
    assert [len(r.body["records"]) for r in airtable.requests] == [10] * 10
    assert len(airtable.records()) == 100


# -- engagements ---------------------------------------------------------------------------

WHEN = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


async def test_an_engagement_without_external_id_is_created(airtable, settings):
    crm = airtable_crm(**settings, engagement_fields={"metadata": "Metadata"})
    record = await crm.log_engagement(
        Engagement(
            contact_email="Ann@Example.com",
            kind="email_sent",
            occurred_at=WHEN,
            subject="Offer",
            metadata={"campaign": "q4"},
        )
    )
    await crm.aclose()
    (seen,) = airtable.requests
    assert (seen.method, seen.table) == ("POST", "Engagements")
    assert seen.body == {
        "records": [
            {
                "fields": {
                    "Email": "ann@example.com",
                    "Kind": "email_sent",
                    "Date": "2026-11-30T09:30:00Z",
                    "Subject": "Offer",
                    "Metadata": '{"campaign": "q4"}',
                }
            }
        ],
        "typecast": False,
    }
    assert record.kind == "engagement" and record.created is True


async def test_an_engagement_with_an_external_id_is_logged_once(airtable, settings):
    crm = airtable_crm(**settings)
    sent = Engagement(
        contact_email="ann@example.com", kind="email_sent", occurred_at=WHEN, external_id="<m1@x>"
    )
    first = await crm.log_engagement(sent)
    again = await crm.log_engagement(sent)
    other_kind = await crm.log_engagement(
        Engagement(contact_email="ann@example.com", kind="email_reply", external_id="<m1@x>")
    )
    await crm.aclose()
    assert first.id == again.id != other_kind.id
    assert (first.created, again.created, other_kind.created) == (True, False, True)
    assert airtable.requests[0].body["performUpsert"] == {
        "fieldsToMergeOn": ["Email", "Kind", "External ID"]
    }
    assert len(airtable.records("Engagements")) == 2


async def test_without_an_engagements_table_engagements_fall_back(airtable, settings):
    crm = airtable_crm(**{**settings, "engagements_table": None})
    with pytest.raises(Unavailable, match="engagements_table"):
        await crm.log_engagement(Engagement(contact_email="a@example.com", kind="note"))
    assert airtable.requests == []


# -- check() ---------------------------------------------------------------------------------


async def test_check_lists_one_record_of_each_table(airtable, settings):
    crm = airtable_crm(**settings)
    await crm.check()
    await crm.aclose()
    assert [(r.method, r.table, r.args) for r in airtable.requests] == [
        ("GET", "Contacts", {"maxRecords": "1", "pageSize": "1"}),
        ("GET", "Engagements", {"maxRecords": "1", "pageSize": "1"}),
    ]
