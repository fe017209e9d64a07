"""One session per account: created once, shared by concurrent posts, refreshed on expiry.

Follows the lexicons ``com.atproto.server.createSession`` and ``refreshSession``, the reference
PDS's 400 ``ExpiredToken`` for an expired access JWT, and docs.bsky.app
advanced-guides/rate-limits (createSession: 30 per 5 minutes, 300 a day per account).
"""

from __future__ import annotations

import asyncio

import pytest
from aicmo_gateway_bluesky.plugin import bluesky_poster

from aicmo_gateway import AuthError, Gateway, RateLimited, Status
from aicmo_gateway.ports import SocialPost

LOGIN = "com.atproto.server.createSession"
REFRESH = "com.atproto.server.refreshSession"


async def test_many_posts_use_one_session(pds, settings):
    poster = bluesky_poster(**settings)
    for n in range(5):
        await poster.post(SocialPost(text=f"post {n}"), idempotency_key=f"s-{n}")
    await poster.aclose()
    assert pds.calls(LOGIN) == 1
    assert len(pds.records) == 5


async def test_concurrent_posts_wait_for_one_login(pds, settings):
    poster = bluesky_poster(**settings)
    posts = [poster.post(SocialPost(text=f"p{n}"), idempotency_key=f"c-{n}") for n in range(8)]
    await asyncio.gather(*posts)
    await poster.aclose()
    assert pds.calls(LOGIN) == 1
    assert len(pds.records) == 8


async def test_posters_of_one_account_share_the_session_across_gateways(pds, settings):
    config = {
        "capabilities": {"social_posting": {"providers": ["bluesky"]}},
        "providers": {"bluesky": {"type": "bluesky", **settings}},
    }
    for n in range(3):  # e.g. three worker processes' worth of gateways built in one process
        async with Gateway.from_config(config, env={}) as gateway:
            outcome = await gateway.social_posting.post(SocialPost(text=f"g{n}"))
        assert outcome.status is Status.OK
    assert pds.calls(LOGIN) == 1


async def test_an_expired_access_token_is_refreshed_once_for_concurrent_posts(pds, settings):
    poster = bluesky_poster(**settings)
    await poster.post(SocialPost(text="first"), idempotency_key="e-0")
    pds.expire_access()
    posts = [poster.post(SocialPost(text=f"e{n}"), idempotency_key=f"e-{n}") for n in range(1, 6)]
    await asyncio.gather(*posts)
    await poster.aclose()
    assert (pds.calls(LOGIN), pds.calls(REFRESH)) == (1, 1)
    assert len(pds.records) == 6


async def test_an_expired_refresh_token_leads_to_one_new_login(pds, settings):
    poster = bluesky_poster(**settings)
    await poster.post(SocialPost(text="first"), idempotency_key="r-0")
    pds.expire_access()
    pds.expire_refresh()
    await poster.post(SocialPost(text="second"), idempotency_key="r-1")
    await poster.aclose()
    assert (pds.calls(LOGIN), pds.calls(REFRESH)) == (2, 1)
    assert len(pds.records) == 2


async def test_check_creates_the_session_then_reuses_it(pds, settings):
    poster = bluesky_poster(**settings)
    await poster.check()
    await poster.check()
    pds.expire_access()
    await poster.check()
    await poster.aclose()
    assert (pds.calls(LOGIN), pds.calls(REFRESH)) == (1, 1)


async def test_a_wrong_password_is_an_auth_error_without_the_password(pds, settings):
    wrong = "wrong-pw-" + settings["app_password"]
    poster = bluesky_poster(**{**settings, "app_password": wrong})
    with pytest.raises(AuthError, match=r"Invalid identifier or password.*app password") as caught:
        await poster.check()
    await poster.aclose()
    assert wrong not in str(caught.value)
    assert pds.records == {}


async def test_a_rate_limited_login_is_rate_limited_until_the_reset(pds, settings):
    pds.answer_next(
        LOGIN,
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"ratelimit-remaining": "0", "ratelimit-policy": "30;w=300"},
    )
    poster = bluesky_poster(**settings)
    with pytest.raises(RateLimited) as caught:
        await poster.post(SocialPost(text="x"), idempotency_key="l-1")
    assert caught.value.retry_after is not None and 250 < caught.value.retry_after <= 300
    sent = len(pds.requests)
    with pytest.raises(RateLimited, match="locked out"):
        await poster.post(SocialPost(text="y"), idempotency_key="l-2")
    await poster.aclose()
    assert len(pds.requests) == sent  # no second login attempt
