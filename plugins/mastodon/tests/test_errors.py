"""Every documented failure of Mastodon, and what the poster raises for it.

Follows docs.joinmastodon.org api/entities/Error (``{"error": "..."}``), methods/statuses#create
(401, 403, 404, 422, 429 answers) and api/rate-limits (``X-RateLimit-Limit``,
``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` as an ISO 8601 time stamp).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aicmo_gateway_mastodon.errors import reset_wait
from aicmo_gateway_mastodon.plugin import mastodon_poster
from loguru import logger

from aicmo_gateway import Ambiguous, AuthError, InvalidInput, RateLimited, Unavailable
from aicmo_gateway.ports import SocialPost

POST = SocialPost(text="hello")


async def publish(settings: dict[str, Any], item: SocialPost = POST, **changes: Any) -> Any:
    poster = mastodon_poster(**{**settings, **changes})
    try:
        return await poster.post(item, idempotency_key="err-1")
    finally:
        await poster.aclose()


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (401, "The access token is invalid", AuthError),
        (403, "This action is outside the authorized scopes", AuthError),
        (404, "Record not found", AuthError),
        (422, "Validation failed: Text character limit of 500 exceeded", InvalidInput),
        (400, "Bad request", InvalidInput),
        (500, "We're sorry, but something went wrong", Ambiguous),
        (502, "Bad gateway", Ambiguous),
        (503, "Service unavailable", Unavailable),
    ],
)
async def test_each_answer_raises_the_error_the_chain_expects(
    mastodon, settings, status, text, expected
):
    mastodon.answer_next("/api/v1/statuses", status, {"error": text})
    with pytest.raises(expected, match=f"HTTP {status}"):
        await publish(settings)


async def test_a_wrong_token_is_an_auth_error(mastodon, settings):
    with pytest.raises(AuthError, match=r"access token is invalid.*check the access_token"):
        await publish(settings, access_token="not-the-token")


async def test_a_reply_to_a_missing_post_is_bad_input(mastodon, settings):
    with pytest.raises(InvalidInput, match="in_reply_to") as caught:
        await publish(settings, SocialPost(text="re", in_reply_to="999999"))
    assert caught.value.field == "SocialPost.in_reply_to"


async def test_a_429_waits_until_the_iso_reset_and_locks_the_account_out(mastodon, settings):
    mastodon.answer_next(
        "/api/v1/statuses",
        429,
        {"error": "Too many requests"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": iso_in(120)},
    )
    with pytest.raises(RateLimited) as caught:
        await publish(settings)
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120
    sent = len(mastodon.requests)
    with pytest.raises(RateLimited, match="locked out"):  # another poster of the same account
        await publish(settings, SocialPost(text="next"))
    assert len(mastodon.requests) == sent  # nothing was sent
    assert mastodon.statuses == []


async def test_a_spent_window_makes_the_next_post_fail_over_without_a_request(mastodon, settings):
    poster = mastodon_poster(**settings)
    await poster.limits()
    mastodon.remaining = 0  # from now on the window is spent, reset in 5 minutes
    await poster.post(POST, idempotency_key="w-1")
    sent = len(mastodon.requests)
    with pytest.raises(RateLimited, match=r"\d+\.\ds away"):
        await poster.post(SocialPost(text="second"), idempotency_key="w-2")
    await poster.aclose()
    assert len(mastodon.requests) == sent
    assert len(mastodon.statuses) == 1


def test_the_reset_header_is_read_as_an_iso_time_stamp():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert reset_wait({"X-RateLimit-Reset": "2026-11-30T12:05:00.000Z"}, now=now) == 300.0
    assert reset_wait({"X-RateLimit-Reset": "2026-11-30T11:00:00Z"}, now=now) == 0.0
    assert reset_wait({"X-RateLimit-Reset": "soon", "Retry-After": "7"}, now=now) == 7.0
    assert reset_wait({}, now=now) is None


async def test_a_timeout_after_sending_is_ambiguous(mastodon, settings):
    mastodon.answer_next("/api/v1/statuses", 200, {"id": "1"}, delay=1.0)
    with pytest.raises(Ambiguous):
        await publish(settings, timeout=0.3)


async def test_a_body_that_is_not_json_is_ambiguous(mastodon, settings):
    mastodon.answer_next("/api/v1/statuses", 200, "<html>maintenance</html>")
    with pytest.raises(Ambiguous, match="not JSON"):
        await publish(settings)


async def test_a_success_without_a_status_id_is_ambiguous(mastodon, settings):
    mastodon.answer_next("/api/v1/statuses", 200, {"content": "?"})
    with pytest.raises(Ambiguous, match="without a status id"):
        await publish(settings)


async def test_an_unreachable_instance_is_unavailable(settings):
    with pytest.raises(Unavailable, match="nothing was sent"):
        await publish(settings, instance_url="http://127.0.0.1:9")


async def test_the_token_never_shows_in_errors_or_logs_even_when_echoed(mastodon, settings):
    token = settings["access_token"]
    mastodon.answer_next("/api/v1/statuses", 422, {"error": f"bad token {token} in request"})
    lines: list[str] = []
    logger.enable("aicmo_gateway")
    logger.enable("aicmo_gateway_mastodon")
    sink = logger.add(lines.append, level="DEBUG")
    try:
        with pytest.raises(InvalidInput) as caught:
            await publish(settings)
    finally:
        logger.remove(sink)
        logger.disable("aicmo_gateway")
        logger.disable("aicmo_gateway_mastodon")
    assert token not in str(caught.value) and "********" in str(caught.value)
    assert lines and not any(token in line for line in lines)
