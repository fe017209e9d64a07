"""Publishing posts, images as blobs, replies, and the record key that makes retries safe.

Follows the lexicons ``com.atproto.repo.createRecord`` / ``getRecord`` / ``uploadBlob``,
``app.bsky.feed.post`` (``reply`` with ``root`` and ``parent`` strong refs, ``langs``),
``app.bsky.embed.images`` (``alt``, at most 4 images of at most 2,000,000 bytes) and
atproto.com/specs/record-key and specs/tid; the reference PDS answers a create at a key that
already holds a record with 500 ``InternalServerError`` and creates nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aicmo_gateway_bluesky.plugin import bluesky_poster
from aicmo_gateway_bluesky.rkey import TID, rkey_for_key

from aicmo_gateway import Ambiguous, Gateway, InvalidInput, Status, Unavailable
from aicmo_gateway.ports import Media, SocialPost

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


async def publish(settings: dict[str, Any], post: SocialPost, key: str | None = "p-1") -> Any:
    poster = bluesky_poster(**settings)
    try:
        return await poster.post(post, idempotency_key=key)
    finally:
        await poster.aclose()


def config(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "capabilities": {"social_posting": {"providers": ["bluesky"]}},
        "providers": {"bluesky": {"type": "bluesky", **settings}},
    }


async def through_gateway(settings: dict[str, Any], post: SocialPost, key: str | None) -> Any:
    async with Gateway.from_config(config(settings), env={}) as gateway:
        return await gateway.social_posting.post(post, idempotency_key=key)


async def test_a_post_is_created_under_the_key_derived_record_key(pds, settings):
    receipt = await publish(settings, SocialPost(text="Hello Bluesky", language="en"), "k/1")
    rkey = rkey_for_key("k/1")
    assert TID.match(rkey)
    assert list(pds.records) == [rkey]
    record = pds.records[rkey]["value"]
    assert record["$type"] == "app.bsky.feed.post"
    assert (record["text"], record["langs"]) == ("Hello Bluesky", ["en"])
    assert record["createdAt"].endswith("Z")
    assert receipt.post_id == f"at://{pds.did}/app.bsky.feed.post/{rkey}"
    assert receipt.url == f"https://bsky.app/profile/{pds.handle}/post/{rkey}"


def test_record_keys_are_tids_stable_per_key_and_distinct_between_keys():
    keys = [f"campaign/{n}" for n in range(500)] + ["", "é" * 1000]
    rkeys = [rkey_for_key(k) for k in keys]
    assert all(TID.match(r) for r in rkeys)
    assert len(set(rkeys)) == len(rkeys)
    assert rkeys == [rkey_for_key(k) for k in keys]


async def test_images_are_uploaded_as_blobs_and_embedded_with_alt_text(pds, settings):
    media = [
        Media(filename="a.png", content=PNG, description="Notre équipe 👋"),
        Media(filename="b.jpg", content=b"\xff\xd8\xff" + b"\x00" * 9),
    ]
    await publish(settings, SocialPost(text="photos", media=media))
    (record,) = [r["value"] for r in pds.records.values()]
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [i["alt"] for i in embed["images"]] == ["Notre équipe 👋", ""]
    stored = [pds.blobs[i["image"]["ref"]["$link"]] for i in embed["images"]]
    assert stored == [("image/png", PNG), ("image/jpeg", b"\xff\xd8\xff" + b"\x00" * 9)]


async def test_an_image_over_the_size_limit_is_rejected_before_any_upload(pds, settings):
    big = Media(filename="big.png", content=PNG + b"\x00" * 2_000_000)
    with pytest.raises(InvalidInput, match=r"'big.png' has \d+ bytes.*at most 2000000") as caught:
        await publish(settings, SocialPost(text="x", media=[big]))
    assert caught.value.field == "SocialPost.media[0]"
    assert pds.requests == []


async def test_a_pds_with_the_older_blob_limit_refuses_as_bad_input(pds, settings):
    pds.max_blob = 1_000_000
    image = Media(filename="mid.png", content=PNG + b"\x00" * 1_500_000)
    with pytest.raises(InvalidInput, match="BlobTooLarge"):
        await publish(settings, SocialPost(text="x", media=[image]))
    assert pds.records == {}


async def test_five_images_and_videos_are_refused(pds, settings):
    five = [Media(filename=f"{n}.png", content=PNG) for n in range(5)]
    with pytest.raises(InvalidInput, match="at most 4"):
        await publish(settings, SocialPost(text="x", media=five))
    video = Media(filename="clip.mp4", content=b"\x00" * 16)
    with pytest.raises(Unavailable, match="images only"):
        await publish(settings, SocialPost(text="x", media=[video]))
    assert pds.requests == []


async def test_a_reply_names_its_parent_and_the_threads_root(pds, settings):
    root = await publish(settings, SocialPost(text="root"), "t/root")
    parent = await publish(settings, SocialPost(text="parent", in_reply_to=root.post_id), "t/p")
    await publish(settings, SocialPost(text="child", in_reply_to=parent.url), "t/c")
    child = pds.records[rkey_for_key("t/c")]["value"]
    root_ref = {"uri": root.post_id, "cid": pds.records[rkey_for_key("t/root")]["cid"]}
    parent_ref = {"uri": parent.post_id, "cid": pds.records[rkey_for_key("t/p")]["cid"]}
    assert child["reply"] == {"root": root_ref, "parent": parent_ref}


async def test_a_reply_to_a_missing_post_is_bad_input(pds, settings):
    missing = f"at://{pds.did}/app.bsky.feed.post/3jzfcijpj2z2a"
    with pytest.raises(InvalidInput, match="was not found") as caught:
        await publish(settings, SocialPost(text="re", in_reply_to=missing))
    assert caught.value.field == "SocialPost.in_reply_to"
    with pytest.raises(InvalidInput, match="not a Bluesky post"):
        await publish(settings, SocialPost(text="re", in_reply_to="12345"))


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (SocialPost(text="x", visibility="unlisted"), "every Bluesky post is public"),
        (SocialPost(text="x", spoiler="spoilers"), "no content warning"),
    ],
)
async def test_what_bluesky_cannot_do_fails_over_without_a_request(pds, settings, post, message):
    with pytest.raises(Unavailable, match=message):
        await publish(settings, post)
    assert pds.requests == []


# -- idempotent replay -------------------------------------------------------------------------


async def test_a_repeated_call_with_the_same_key_creates_one_post(pds, settings):
    first = await publish(settings, SocialPost(text="launch"), "launch/1")
    again = await publish(settings, SocialPost(text="launch"), "launch/1")
    assert first == again
    assert len(pds.records) == 1
    assert pds.calls("com.atproto.repo.createRecord") == 1  # the second found it first


async def test_a_create_that_meets_an_existing_record_answers_that_post(pds, settings):
    # another attempt created the record between this attempt's check and its create
    first = await publish(settings, SocialPost(text="race"), "race/1")
    pds.answer_next("com.atproto.repo.getRecord", 400, {"error": "RecordNotFound", "message": "no"})
    again = await publish(settings, SocialPost(text="race"), "race/1")
    assert again == first
    assert pds.calls("com.atproto.repo.createRecord") == 2  # the PDS refused the second: 500
    assert len(pds.records) == 1


async def test_a_timeout_after_the_record_was_written_is_resolved_by_reading_it(pds, settings):
    # the PDS wrote the record but answered too late: the provider reads the key and finds it
    pds.answer_next("com.atproto.repo.createRecord", 200, {"uri": "late"}, delay=1.0, process=True)
    outcome = await through_gateway({**settings, "timeout": 0.3}, SocialPost(text="t"), "amb/1")
    assert outcome.status is Status.OK
    assert len(outcome.attempts) == 1
    assert len(pds.records) == 1
    assert outcome.value.post_id == next(iter(pds.records.values()))["uri"]


async def test_an_ambiguous_timeout_is_retried_by_the_chain_with_the_same_record_key(pds, settings):
    # no record after the timeout: the attempt stays ambiguous, the chain retries on Bluesky
    # (declared idempotent), and the retry creates the post under the same key
    pds.answer_next("com.atproto.repo.createRecord", 200, {"uri": "late"}, delay=1.0)
    outcome = await through_gateway({**settings, "timeout": 0.3}, SocialPost(text="t"), "amb/2")
    assert outcome.status is Status.OK
    assert [a.error for a in outcome.attempts] == ["Ambiguous", None]
    assert list(pds.records) == [rkey_for_key("amb/2")]
    creates = [json.loads(b) for _, p, _, b in pds.requests if p.endswith("repo.createRecord")]
    assert [c["rkey"] for c in creates] == [rkey_for_key("amb/2")] * 2


async def test_a_5xx_after_the_record_was_written_is_resolved_by_reading_it(pds, settings):
    pds.answer_next(
        "com.atproto.repo.createRecord",
        502,
        {"error": "UpstreamFailure", "message": "bad gateway"},
        process=True,
    )
    receipt = await publish(settings, SocialPost(text="written"), "5xx/1")
    assert receipt.post_id == next(iter(pds.records.values()))["uri"]
    assert len(pds.records) == 1


async def test_a_5xx_without_a_record_stays_ambiguous(pds, settings):
    pds.answer_next("com.atproto.repo.createRecord", 500, {"error": "InternalServerError"})
    with pytest.raises(Ambiguous):
        await publish(settings, SocialPost(text="lost"), "5xx/2")
    assert pds.records == {}


async def test_the_same_key_for_another_post_is_rejected(pds, settings):
    await publish(settings, SocialPost(text="first text"), "reused/1")
    outcome = await through_gateway(settings, SocialPost(text="other text"), "reused/1")
    assert outcome.status is Status.REJECTED
    assert "already used for another post" in (outcome.reason or "")
    assert len(pds.records) == 1


async def test_without_a_caller_key_the_gateway_derives_one_from_the_post(pds, settings):
    await through_gateway(settings, SocialPost(text="same"), None)
    await through_gateway(settings, SocialPost(text="same"), None)
    assert len(pds.records) == 1
