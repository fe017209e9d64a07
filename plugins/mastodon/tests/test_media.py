"""Media uploads with alt text, and the wait for processing, against the contract fake.

Follows docs.joinmastodon.org methods/media: ``POST /api/v2/media`` answers 200 when the file
is processed, 202 while it is processed in the background; ``GET /api/v1/media/:id`` answers
206 until it is done, then 200. A status attaching unprocessed media is refused with 422.
"""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_mastodon.poster import MastodonPoster
from aicmo_gateway_mastodon.settings import MastodonSettings

from aicmo_gateway import InvalidInput, Unavailable
from aicmo_gateway.ports import Media, SocialPost

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def poster(settings: dict[str, Any], **options: Any) -> MastodonPoster:
    options.setdefault("poll_interval", 0.01)
    return MastodonPoster(MastodonSettings(**settings), **options)


def image(name: str = "chart.png", alt: str | None = "A bar chart", size: int = 0) -> Media:
    return Media(filename=name, content=PNG + b"\x00" * size, description=alt)


async def publish(settings: dict[str, Any], item: SocialPost, **options: Any) -> Any:
    client = poster(settings, **options)
    try:
        return await client.post(item, idempotency_key="media-1")
    finally:
        await client.aclose()


async def test_images_are_uploaded_with_their_alt_text_and_attached(mastodon, settings):
    item = SocialPost(text="charts", media=[image(), image("map.png", alt="Où nous trouver")])
    await publish(settings, item)
    uploads = list(mastodon.media.values())
    assert [(u["filename"], u["description"], u["content"]) for u in uploads] == [
        ("chart.png", "A bar chart", PNG),
        ("map.png", "Où nous trouver", PNG),
    ]
    assert mastodon.statuses[0]["sent"]["media_ids"] == list(mastodon.media)


async def test_media_still_processing_is_polled_until_ready_before_posting(mastodon, settings):
    mastodon.processing_polls = 3  # 202, then 206, 206, 200
    await publish(settings, SocialPost(text="video", media=[image()]))
    (media_id,) = mastodon.media
    polls = [p for p in mastodon.paths("GET") if p.startswith("/api/v1/media/")]
    assert polls == [f"/api/v1/media/{media_id}"] * 3
    assert mastodon.paths("POST")[-1] == "/api/v1/statuses"
    assert mastodon.statuses[0]["media_attachments"][0]["url"]


async def test_media_that_never_finishes_processing_fails_over_and_nothing_is_posted(
    mastodon, settings
):
    mastodon.processing_polls = 10_000
    with pytest.raises(Unavailable, match=r"still being processed after 0\.1s; nothing"):
        await publish(settings, SocialPost(text="x", media=[image()]), media_wait=0.1)
    assert mastodon.statuses == []


async def test_an_upload_refused_by_the_instance_is_bad_input_naming_the_file(mastodon, settings):
    mastodon.answer_next("/api/v2/media", 422, {"error": "Validation failed: File is invalid"})
    with pytest.raises(InvalidInput, match="File is invalid") as caught:
        await publish(settings, SocialPost(text="x", media=[image()]))
    assert caught.value.field == "SocialPost.media[0]"
    assert mastodon.statuses == []


async def test_a_5xx_on_upload_is_unavailable_not_ambiguous(mastodon, settings):
    mastodon.answer_next("/api/v2/media", 500, {"error": "boom"})
    with pytest.raises(Unavailable):
        await publish(settings, SocialPost(text="x", media=[image()]))


@pytest.mark.parametrize(
    ("change", "media", "message"),
    [
        ({"image_size_limit": 100}, [image(size=200)], r"'chart.png' has \d+ bytes.*at most 100"),
        ({"supported_mime_types": ["image/jpeg"]}, [image()], "image/png, which this instance"),
        ({"max_media_attachments": 1}, [image(), image()], "2 media files.*at most 1"),
    ],
)
async def test_media_the_instance_would_refuse_is_rejected_before_any_upload(
    mastodon, settings, change, media, message
):
    configuration = mastodon.instance["configuration"]
    if "max_media_attachments" in change:
        configuration["statuses"].update(change)
    else:
        configuration["media_attachments"].update(change)
    with pytest.raises(InvalidInput, match=message):
        await publish(settings, SocialPost(text="x", media=media))
    assert mastodon.paths("POST") == []
