"""Publishing statuses, and Mastodon's idempotency keys, against the contract fake.

Follows docs.joinmastodon.org methods/statuses#create: the form of a status, its ``url`` (the
public page), and the ``Idempotency-Key`` header (a repeated key within an hour answers the first
status and publishes nothing).
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway_mastodon.plugin import mastodon_poster

from aicmo_gateway import Gateway, Status
from aicmo_gateway.ports import SocialPost


async def post(settings: dict[str, Any], post: SocialPost, key: str | None = "k-1") -> Any:
    poster = mastodon_poster(**settings)
    try:
        return await poster.post(post, idempotency_key=key)
    finally:
        await poster.aclose()


def config(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "capabilities": {"social_posting": {"providers": ["mastodon"]}},
        "providers": {"mastodon": {"type": "mastodon", **settings}},
    }


async def post_through_gateway(settings: dict[str, Any], item: SocialPost, key: str | None) -> Any:
    async with Gateway.from_config(config(settings), env={}) as gateway:
        return await gateway.social_posting.post(item, idempotency_key=key)


async def test_a_post_is_published_with_its_warning_language_and_reply(mastodon, settings):
    first = await post(settings, SocialPost(text="first"), key="k-0")
    item = SocialPost(
        text="Our spring menu is out",
        spoiler="food",
        language="fr",
        in_reply_to=first.post_id,
        link="https://example.com/menu",
    )
    receipt = await post(settings, item)
    sent = mastodon.statuses[1]["sent"]
    assert sent == {
        "status": "Our spring menu is out\n\nhttps://example.com/menu",
        "visibility": "public",
        "language": "fr",
        "spoiler_text": "food",
        "sensitive": True,
        "in_reply_to_id": first.post_id,
    }
    assert receipt.post_id == mastodon.statuses[1]["id"]
    assert receipt.url == f"{mastodon.url}/@sales/{receipt.post_id}"
    assert receipt.performed is True


async def test_a_link_already_in_the_text_is_not_appended_again(mastodon, settings):
    await post(
        settings, SocialPost(text="Read https://example.com/a", link="https://example.com/a")
    )
    assert mastodon.statuses[0]["sent"]["status"] == "Read https://example.com/a"


async def test_the_configured_visibility_is_a_ceiling_and_language_a_default(mastodon, settings):
    settings = {**settings, "visibility": "unlisted", "language": "de"}
    await post(settings, SocialPost(text="a"), key="k-1")
    await post(settings, SocialPost(text="b", visibility="direct"), key="k-2")
    await post(settings, SocialPost(text="c", language="en"), key="k-3")
    sent = [s["sent"] for s in mastodon.statuses]
    assert [s["visibility"] for s in sent] == ["unlisted", "direct", "unlisted"]
    assert [s["language"] for s in sent] == ["de", "de", "en"]


async def test_the_instance_limits_are_read_once_per_poster(mastodon, settings):
    poster = mastodon_poster(**settings)
    for n in range(3):
        await poster.post(SocialPost(text=f"post {n}"), idempotency_key=f"k-{n}")
    await poster.aclose()
    assert mastodon.paths().count("/api/v2/instance") == 1
    assert len(mastodon.statuses) == 3


async def test_an_instance_without_the_v2_endpoint_gets_mastodons_defaults(mastodon, settings):
    mastodon.answer_next("/api/v2/instance", 404, {"error": "Not found"})
    poster = mastodon_poster(**settings)
    limits = await poster.limits()
    await poster.aclose()
    assert (limits.max_characters, limits.characters_reserved_per_url) == (500, 23)


# -- idempotent replay ---------------------------------------------------------------------------


async def test_the_same_key_answers_the_same_status_and_publishes_once(mastodon, settings):
    first = await post(settings, SocialPost(text="hello"), key="campaign-7/post-1")
    again = await post(settings, SocialPost(text="hello"), key="campaign-7/post-1")
    assert first == again
    assert len(mastodon.statuses) == 1
    keys = [h.get("Idempotency-Key") for m, p, h in mastodon.requests if p == "/api/v1/statuses"]
    assert keys == ["campaign-7/post-1", "campaign-7/post-1"]


async def test_a_key_unfit_for_a_header_is_sent_as_its_digest_the_same_every_time(
    mastodon, settings
):
    key = "clé/" + "x" * 300
    await post(settings, SocialPost(text="hello"), key=key)
    await post(settings, SocialPost(text="hello"), key=key)
    sent = {h["Idempotency-Key"] for m, p, h in mastodon.requests if p == "/api/v1/statuses"}
    (header,) = sent
    assert header.startswith("sha256-") and len(header) == 7 + 64
    assert len(mastodon.statuses) == 1


async def test_through_the_gateway_a_repeated_call_publishes_once(mastodon, settings):
    first = await post_through_gateway(settings, SocialPost(text="hi"), "launch/1")
    again = await post_through_gateway(settings, SocialPost(text="hi"), "launch/1")
    assert first.status is again.status is Status.OK
    assert first.value.post_id == again.value.post_id
    assert len(mastodon.statuses) == 1


async def test_an_ambiguous_timeout_is_retried_with_the_same_key_and_publishes_once(
    mastodon, settings
):
    # the status is published but the answer comes too late: the chain cannot know, retries
    # through Mastodon with the same key, and gets the first status back
    mastodon.answer_next("/api/v1/statuses", 200, {"id": "late"}, delay=1.0, process=True)
    outcome = await post_through_gateway(
        {**settings, "timeout": 0.3}, SocialPost(text="launch day"), "launch/2"
    )
    assert outcome.status is Status.OK
    assert [a.error for a in outcome.attempts] == ["Ambiguous", None]
    assert len(mastodon.statuses) == 1
    assert outcome.value.post_id == mastodon.statuses[0]["id"]


async def test_a_5xx_after_publishing_is_retried_with_the_same_key(mastodon, settings):
    mastodon.answer_next("/api/v1/statuses", 500, {"error": "boom"}, process=True)
    outcome = await post_through_gateway(settings, SocialPost(text="x"), "launch/3")
    assert outcome.status is Status.OK
    assert [a.error for a in outcome.attempts] == ["Ambiguous", None]
    assert len(mastodon.statuses) == 1


async def test_without_a_caller_key_the_gateway_derives_one_from_the_post(mastodon, settings):
    await post_through_gateway(settings, SocialPost(text="same"), None)
    await post_through_gateway(settings, SocialPost(text="same"), None)
    assert len(mastodon.statuses) == 1


async def test_check_verifies_the_token(mastodon, settings):
    poster = mastodon_poster(**settings)
    await poster.check()
    await poster.aclose()
    assert mastodon.paths() == ["/api/v1/accounts/verify_credentials"]
