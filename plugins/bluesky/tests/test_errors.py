"""Every documented failure of a PDS, and what the poster raises for it.

Follows atproto.com/specs/xrpc (``{"error", "message"}`` answers), the reference PDS's errors
(``packages/pds``: 400 ``InvalidRequest``, ``ExpiredToken``, ``InvalidToken``; 401
``AuthenticationRequired``; 403 for a taken-down account; 500 ``InternalServerError``) and
docs.bsky.app advanced-guides/rate-limits (429 ``RateLimitExceeded``, ``ratelimit-*`` headers,
the reset as a Unix time).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aicmo_gateway_bluesky.plugin import bluesky_poster
from loguru import logger

from aicmo_gateway import Ambiguous, AuthError, InvalidInput, RateLimited, Unavailable
from aicmo_gateway.ports import SocialPost

CREATE = "com.atproto.repo.createRecord"
POST = SocialPost(text="hello")


async def publish(settings: dict[str, Any], **changes: Any) -> Any:
    poster = bluesky_poster(**{**settings, **changes})
    try:
        return await poster.post(POST, idempotency_key="err-1")
    finally:
        await poster.aclose()


@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [
        (400, "InvalidRequest", InvalidInput),
        (400, "InvalidSwap", InvalidInput),
        (413, "PayloadTooLarge", InvalidInput),
        (400, "AccountTakedown", AuthError),
        (403, "Forbidden", AuthError),
        (404, "MethodNotImplemented", AuthError),
        (500, "InternalServerError", Ambiguous),
        (502, "UpstreamFailure", Ambiguous),
        (503, "NotEnoughResources", Unavailable),
    ],
)
async def test_each_answer_to_a_create_raises_the_error_the_chain_expects(
    pds, settings, status, name, expected
):
    pds.answer_next(CREATE, status, {"error": name, "message": f"{name} happened"})
    with pytest.raises(expected, match=f"HTTP {status}: {name}: {name} happened"):
        await publish(settings)
    assert pds.records == {}


async def test_a_401_after_login_logs_in_once_more_then_is_an_auth_error(pds, settings):
    refused = {"error": "AuthenticationRequired", "message": "Authentication Required"}
    pds.answer_next(CREATE, 401, refused)
    pds.answer_next(CREATE, 401, refused)
    with pytest.raises(AuthError, match="check identifier and app_password"):
        await publish(settings)
    assert pds.calls("com.atproto.server.createSession") == 2


async def test_a_429_on_create_waits_until_the_reset_and_locks_the_account_out(pds, settings):
    reset = str(int(time.time()) + 600)
    pds.answer_next(
        CREATE,
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"ratelimit-remaining": "0", "ratelimit-reset": reset},
    )
    with pytest.raises(RateLimited) as caught:
        await publish(settings)
    assert caught.value.retry_after is not None and 550 < caught.value.retry_after <= 600
    sent = len(pds.requests)
    with pytest.raises(RateLimited, match="locked out"):
        await publish(settings)
    assert len(pds.requests) == sent
    assert pds.records == {}


async def test_a_spent_window_makes_the_next_post_fail_over_without_a_request(pds, settings):
    poster = bluesky_poster(**settings)
    await poster.check()
    # the create's answer says the window is spent until the reset, 5 minutes away
    pds.answer_next(CREATE, 200, None, process=True, headers={"ratelimit-remaining": "0"})
    await poster.post(POST, idempotency_key="w-1")
    sent = len(pds.requests)
    with pytest.raises(RateLimited, match=r"\d+\.\ds away"):
        await poster.post(SocialPost(text="second"), idempotency_key="w-2")
    await poster.aclose()
    assert len(pds.requests) == sent


async def test_a_timeout_on_create_with_nothing_written_is_ambiguous(pds, settings):
    pds.answer_next(CREATE, 200, {"uri": "x"}, delay=1.0)
    with pytest.raises(Ambiguous):
        await publish(settings, timeout=0.3)


async def test_a_create_answer_that_is_not_json_is_ambiguous(pds, settings):
    pds.answer_next(CREATE, 200, "<html>oops</html>")
    with pytest.raises(Ambiguous, match="not JSON"):
        await publish(settings)


async def test_a_create_answer_without_a_uri_is_ambiguous(pds, settings):
    pds.answer_next(CREATE, 200, {"cid": "bafy"})
    with pytest.raises(Ambiguous, match="without the post's at:// URI"):
        await publish(settings)


async def test_a_malformed_session_answer_is_unavailable(pds, settings):
    pds.answer_next("com.atproto.server.createSession", 200, {"did": "did:plc:x"})
    with pytest.raises(Unavailable, match="lacks accessJwt"):
        await publish(settings)


async def test_an_unreachable_pds_is_unavailable(settings):
    with pytest.raises(Unavailable, match="nothing was sent"):
        await publish(settings, service="http://127.0.0.1:9")


async def test_secrets_never_show_in_errors_or_logs_even_when_echoed(pds, settings):
    password = settings["app_password"]
    poster = bluesky_poster(**settings)
    await poster.check()
    session = poster._store.session
    assert session is not None
    tokens = [session.access_jwt.reveal(), session.refresh_jwt.reveal(), password]
    pds.answer_next(CREATE, 400, {"error": "InvalidRequest", "message": " / ".join(tokens)})
    lines: list[str] = []
    logger.enable("aicmo_gateway")
    logger.enable("aicmo_gateway_bluesky")
    sink = logger.add(lines.append, level="DEBUG")
    try:
        with pytest.raises(InvalidInput) as caught:
            await poster.post(POST, idempotency_key="leak-1")
    finally:
        logger.remove(sink)
        logger.disable("aicmo_gateway")
        logger.disable("aicmo_gateway_bluesky")
        await poster.aclose()
    text = str(caught.value)
    assert "********" in text
    for secret in tokens:
        assert secret not in text
        assert not any(secret in line for line in lines)
    assert lines
    assert session.access_jwt.reveal() not in repr(session)


async def test_a_session_created_by_another_poster_is_masked_too(pds, settings):
    first = bluesky_poster(**settings)
    await first.check()
    session = first._store.session
    assert session is not None
    await first.aclose()
    access = session.access_jwt.reveal()
    second = bluesky_poster(**settings)  # shares the session: it never saw the login answer
    pds.answer_next(CREATE, 400, {"error": "InvalidRequest", "message": f"token {access}"})
    with pytest.raises(InvalidInput) as caught:
        await second.post(POST, idempotency_key="leak-2")
    await second.aclose()
    assert access not in str(caught.value)
    assert pds.calls("com.atproto.server.createSession") == 1
