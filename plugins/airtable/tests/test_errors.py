"""Every documented failure of Airtable, and what the provider raises for it.

Follows airtable.com/developers/web/api "Errors" (statuses and error types), "Rate limits"
(429, then 30 seconds before requests succeed) and support.airtable.com "Managing API call
limits" (monthly call limits of the Free and Team plans: 402).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aicmo_gateway_airtable.plugin import airtable_crm

from aicmo_gateway import (
    Ambiguous,
    AuthError,
    InvalidInput,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)
from aicmo_gateway.ports import Contact, Engagement

CONTACT = Contact(email="ann@example.com", first_name="Ann")


def error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


async def upsert(settings: dict[str, Any], **changes: Any) -> Any:
    crm = airtable_crm(**{**settings, **changes})
    try:
        return await crm.upsert_contact(CONTACT)
    finally:
        await crm.aclose()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, error("AUTHENTICATION_REQUIRED", "Authentication required"), AuthError),
        (403, error("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "Invalid permissions"), AuthError),
        (404, {"error": "NOT_FOUND"}, AuthError),
        (404, error("TABLE_NOT_FOUND", "Could not find table Contacts"), AuthError),
        (402, error("PUBLIC_API_BILLING_LIMIT_EXCEEDED", "Billing limit exceeded"), QuotaExhausted),
        (413, error("REQUEST_TOO_LARGE", "Request body is too large"), InvalidInput),
        (422, error("INVALID_REQUEST_UNKNOWN", "Invalid request"), InvalidInput),
        (
            400,
            error("INVALID_REQUEST_MISSING_FIELDS", "Could not find field records"),
            InvalidInput,
        ),
        (422, error("UNKNOWN_FIELD_NAME", 'Unknown field name: "Phone"'), AuthError),
        (
            422,
            error(
                "INVALID_MULTIPLE_CHOICE_OPTIONS",
                'Insufficient permissions to create new select option ""q4""',
            ),
            AuthError,
        ),
        (500, error("SERVER_ERROR", "Server error"), Ambiguous),
        (502, "<html>Bad gateway</html>", Ambiguous),
        (503, error("SERVICE_UNAVAILABLE", "Try again"), Unavailable),
    ],
)
async def test_each_documented_error_maps_to_the_error_the_chain_expects(
    airtable, settings, status, body, expected
):
    airtable.answer_next(status, body)
    with pytest.raises(expected) as caught:
        await upsert(settings)
    assert type(caught.value) is expected
    assert f"HTTP {status}" in str(caught.value)


async def test_the_monthly_call_limit_resets_next_month(airtable, settings):
    airtable.answer_next(402, error("PUBLIC_API_BILLING_LIMIT_EXCEEDED", "limit"))
    with pytest.raises(QuotaExhausted) as caught:
        await upsert(settings)
    reset = caught.value.reset_at
    assert reset is not None and reset.day == 1 and reset > datetime.now(UTC)


async def test_a_429_without_retry_after_means_airtables_thirty_seconds(airtable, settings):
    airtable.answer_next(429, error("RATE_LIMIT_REACHED", "Rate limit exceeded"))
    with pytest.raises(RateLimited) as caught:
        await upsert(settings)
    assert caught.value.retry_after == 30.0


async def test_a_429_with_retry_after_carries_that_wait(airtable, settings):
    airtable.answer_next(
        429, error("RATE_LIMIT_REACHED", "slow down"), headers={"Retry-After": "12"}
    )
    with pytest.raises(RateLimited) as caught:
        await upsert(settings)
    assert caught.value.retry_after == 12.0


async def test_after_a_429_every_provider_on_the_base_is_refused_without_sending(
    airtable, settings
):
    airtable.answer_next(429, error("RATE_LIMIT_REACHED", "Rate limit exceeded"))
    with pytest.raises(RateLimited):
        await upsert(settings)
    for _ in range(3):  # other instances, other calls: none reaches Airtable
        with pytest.raises(RateLimited, match="locked out") as caught:
            await upsert(settings)
        assert 25 < (caught.value.retry_after or 0) <= 30
    crm = airtable_crm(**settings)
    with pytest.raises(RateLimited):
        await crm.log_engagement(Engagement(contact_email="a@example.com", kind="note"))
    with pytest.raises(RateLimited):
        await crm.check()
    await crm.aclose()
    assert len(airtable.requests) == 1


async def test_a_timeout_after_the_upsert_was_sent_is_ambiguous(airtable, settings):
    airtable.answer_next(200, {"records": []}, delay=1.0, process=True)
    with pytest.raises(Ambiguous, match="may have been processed"):
        await upsert(settings, timeout=0.3)
    assert len(airtable.records()) == 1  # it was written


async def test_a_refused_connection_is_unavailable(settings):
    with pytest.raises(Unavailable, match="nothing was sent"):
        await upsert(settings, base_url="http://127.0.0.1:9", timeout=2.0)


@pytest.mark.parametrize(
    "body",
    [
        "<html>not json</html>",
        "[]",
        {"records": []},
        {"records": [{"id": "rec1"}]},  # no createdRecords
        {"records": [{"id": "rec1"}, {"id": "rec2"}], "createdRecords": []},
    ],
)
async def test_an_answer_that_does_not_account_for_the_records_is_ambiguous(
    airtable, settings, body
):
    airtable.answer_next(200, body)
    with pytest.raises(Ambiguous):
        await upsert(settings)


async def test_a_token_the_service_echoes_in_an_error_never_shows(airtable, settings):
    token = settings["api_key"]
    airtable.answer_next(401, error("AUTHENTICATION_REQUIRED", f"Bad token {token}"))
    with pytest.raises(AuthError) as caught:
        await upsert(settings)
    assert token not in str(caught.value) and token not in repr(caught.value)
    assert "********" in str(caught.value)


async def test_a_wrong_token_fails_the_check(airtable, settings):
    crm = airtable_crm(**{**settings, "api_key": "patWrong0123456789.abcdef0123456789"})
    with pytest.raises(AuthError, match="AUTHENTICATION_REQUIRED"):
        await crm.check()
    await crm.aclose()


async def test_an_unknown_table_fails_the_check(airtable, settings):
    crm = airtable_crm(**{**settings, "engagements_table": "Nope"})
    with pytest.raises(AuthError, match="check base_id, table"):
        await crm.check()
    await crm.aclose()
