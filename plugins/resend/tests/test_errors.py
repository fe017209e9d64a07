"""Every documented failure of Resend, and what the sender raises for it.

Follows resend.com/docs api-reference/errors (error names and statuses), api-reference/rate-limit
(``retry-after``, ``ratelimit-*`` headers, email quotas) and knowledge-base/account-quotas-and-
limits (the free plan's 100 emails a day and 3,000 a month).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aicmo_gateway_resend.plugin import resend_sender

from aicmo_gateway import (
    Ambiguous,
    AuthError,
    InvalidInput,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)
from aicmo_gateway.ports import EmailMessage


def error(status: int, name: str, message: str) -> dict[str, Any]:
    return {"statusCode": status, "name": name, "message": message}


MESSAGE = EmailMessage(to="ada@example.com", sender="sales@example.com", subject="Hi", text="Yo")


async def send(settings: dict[str, Any], **changes: Any) -> Any:
    sender = resend_sender(**{**settings, **changes})
    try:
        return await sender.send(MESSAGE, idempotency_key="key-1")
    finally:
        await sender.aclose()


@pytest.mark.parametrize(
    ("status", "name", "text", "expected"),
    [
        (401, "missing_api_key", "Missing API key", AuthError),
        (401, "validation_error", "API key is invalid", AuthError),
        (401, "restricted_api_key", "This API key is restricted", AuthError),
        (403, "invalid_api_key", "API key is invalid.", AuthError),
        (403, "invalid_from_address", "The from address is not valid.", AuthError),
        (403, "validation_error", "The example.com domain is not verified.", AuthError),
        (400, "validation_error", "Invalid `to` field.", InvalidInput),
        (400, "invalid_idempotency_key", "The key must be between 1-256 chars.", InvalidInput),
        (422, "missing_required_field", "Missing `to` field.", InvalidInput),
        (422, "invalid_attachment", "Attachment must have either a content or path.", InvalidInput),
        (404, "not_found", "The requested endpoint does not exist.", AuthError),
        (405, "method_not_allowed", "Method is not allowed.", AuthError),
        (409, "invalid_idempotent_request", "Same key, other payload.", InvalidInput),
        (409, "concurrent_idempotent_requests", "Still in progress.", Ambiguous),
        (500, "application_error", "An unexpected error occurred.", Ambiguous),
        (502, "internal_server_error", "Bad gateway", Ambiguous),
        (503, "service_unavailable", "Try later", Unavailable),
    ],
)
async def test_each_documented_error_maps_to_the_error_the_chain_expects(
    resend, settings, status, name, text, expected
):
    resend.answer_next(status, error(status, name, text))
    with pytest.raises(expected) as caught:
        await send(settings)
    assert type(caught.value) is expected
    assert name in str(caught.value) and f"HTTP {status}" in str(caught.value)


async def test_a_429_with_retry_after_carries_the_wait(resend, settings):
    resend.answer_next(
        429,
        error(429, "rate_limit_exceeded", "Too many requests."),
        headers={"retry-after": "7", "ratelimit-remaining": "0", "ratelimit-reset": "7"},
    )
    with pytest.raises(RateLimited) as caught:
        await send(settings)
    assert caught.value.retry_after == 7.0


async def test_a_429_without_retry_after_waits_for_the_ratelimit_reset(resend, settings):
    resend.answer_next(
        429,
        error(429, "rate_limit_exceeded", "Too many requests."),
        headers={"ratelimit-reset": "2"},
    )
    with pytest.raises(RateLimited) as caught:
        await send(settings)
    assert caught.value.retry_after == 2.0


async def test_a_429_locks_every_sender_of_the_account_out_until_the_wait_ends(resend, settings):
    resend.answer_next(
        429, error(429, "rate_limit_exceeded", "Too many."), headers={"retry-after": "30"}
    )
    with pytest.raises(RateLimited):
        await send(settings)
    with pytest.raises(RateLimited, match="locked out") as caught:
        await send(settings)  # another sender instance, same account
    assert 25 < (caught.value.retry_after or 0) <= 30
    assert len(resend.requests) == 1  # the second never reached Resend


async def test_the_daily_quota_is_a_quota_error_that_resets_after_the_wait(resend, settings):
    resend.answer_next(
        429,
        error(429, "daily_quota_exceeded", "You have reached your daily email sending quota."),
        headers={"retry-after": "3600"},
    )
    before = datetime.now(UTC)
    with pytest.raises(QuotaExhausted) as caught:
        await send(settings)
    assert caught.value.reset_at is not None
    assert 3590 < (caught.value.reset_at - before).total_seconds() < 3610
    assert "plan = 'paid'" in str(caught.value)


async def test_the_monthly_quota_resets_on_the_first_of_next_month(resend, settings):
    resend.answer_next(
        429, error(429, "monthly_quota_exceeded", "You have reached your monthly quota.")
    )
    with pytest.raises(QuotaExhausted) as caught:
        await send(settings)
    reset = caught.value.reset_at
    assert reset is not None and reset.day == 1 and reset > datetime.now(UTC)


async def test_a_timeout_after_the_request_was_sent_is_ambiguous(resend, settings):
    resend.answer_next(200, {"id": "late"}, delay=1.0, process=True)
    with pytest.raises(Ambiguous, match="may have been processed"):
        await send(settings, timeout=0.3)


async def test_a_refused_connection_is_unavailable():
    sender = resend_sender(api_key="re_x_0123456789", base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(Unavailable, match="nothing was sent"):
        await sender.send(MESSAGE)
    await sender.aclose()


@pytest.mark.parametrize("body", ["<html>gateway</html>", "[1, 2]", '{"id": 42}', "{}"])
async def test_a_success_without_a_readable_email_id_is_ambiguous(resend, settings, body):
    resend.answer_next(200, body)
    with pytest.raises(Ambiguous):
        await send(settings)


async def test_a_key_the_service_echoes_in_an_error_never_shows(resend, settings):
    key = settings["api_key"]
    resend.answer_next(403, error(403, "invalid_api_key", f"API key {key} is invalid"))
    with pytest.raises(AuthError) as caught:
        await send(settings)
    assert key not in str(caught.value) and key not in repr(caught.value)
    assert "********" in str(caught.value)


# -- check() ---------------------------------------------------------------------------------


async def check(settings: dict[str, Any], **changes: Any) -> None:
    sender = resend_sender(**{**settings, **changes})
    try:
        await sender.check()
    finally:
        await sender.aclose()


async def test_check_lists_domains_with_a_full_access_key(resend, settings):
    await check(settings)
    ((method, path, headers, _),) = resend.requests
    assert (method, path) == ("GET", "/domains")
    assert headers["Authorization"] == f"Bearer {resend.full_key}"


async def test_check_passes_for_a_key_restricted_to_sending(resend, settings):
    await check(settings, api_key=resend.sending_key)


async def test_check_fails_for_an_unknown_key_without_showing_it(resend, settings):
    with pytest.raises(AuthError, match="API key is invalid") as caught:
        await check(settings, api_key="re_wrong_K3y_0123456789")
    assert "re_wrong_K3y_0123456789" not in str(caught.value)


async def test_check_fails_when_resend_is_down(resend, settings):
    resend.answer_next(503, error(503, "service_unavailable", "down"))
    with pytest.raises(Unavailable):
        await check(settings)


async def test_an_echoed_key_never_shows_in_the_gateways_outcome(resend, settings):
    from aicmo_gateway import Gateway, Status

    key = settings["api_key"]
    resend.answer_next(401, error(401, "validation_error", f"API key is invalid: {key}"))
    config = {
        "capabilities": {"email_sending": {"providers": ["resend"]}},
        "providers": {"resend": {"type": "resend", **settings}},
    }
    async with Gateway.from_config(config, env={}) as gateway:
        outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.FAILED
    assert key not in repr(outcome) and "API key is invalid" in repr(outcome)
