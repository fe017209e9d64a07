"""Media uploads: ``POST /api/v2/media``, then polling until the instance has processed them.

From docs.joinmastodon.org/methods/media: ``POST /api/v2/media`` takes a multipart form with
``file`` and ``description`` (the alt text). It answers 200 with a ``MediaAttachment`` whose
``url`` is set when the file was processed at once (small images), or 202 with ``url: null``
while it is processed in the background. ``GET /api/v1/media/:id`` then answers 206 while the
processing goes on and 200 when it is done. A status that attaches unprocessed media is refused
(422), so the poster waits for every upload first.

An upload that fails leaves nothing published (a lone upload is deleted by the instance after a
day), so upload errors are never ``Ambiguous``: the requests are sent as reads.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aicmo_gateway import InvalidInput, Unavailable
from aicmo_gateway.http import HttpClient, HttpResponse
from aicmo_gateway.ports import Media
from aicmo_gateway_mastodon.errors import raise_for
from aicmo_gateway_mastodon.instance import InstanceLimits

__all__ = ["check_media", "upload"]


def check_media(media: tuple[Media, ...], limits: InstanceLimits) -> None:
    """Refuse what the instance will refuse, before uploading anything."""
    if len(media) > limits.max_media_attachments:
        raise InvalidInput(
            f"mastodon: the post has {len(media)} media files; this instance takes at most "
            f"{limits.max_media_attachments} per post",
            field="SocialPost.media",
        )
    for i, item in enumerate(media):
        field = f"SocialPost.media[{i}]"
        if limits.supported_mime_types and item.content_type not in limits.supported_mime_types:
            raise InvalidInput(
                f"mastodon: {item.filename!r} is {item.content_type}, which this instance does "
                "not take; convert it to PNG, JPEG or MP4",
                field=field,
            )
        limit = limits.size_limit(item.content_type)
        if len(item.content) > limit:
            raise InvalidInput(
                f"mastodon: {item.filename!r} has {len(item.content)} bytes; this instance "
                f"takes at most {limit} bytes for {item.content_type}",
                field=field,
            )


def _media_id(response: HttpResponse) -> tuple[str, bool]:
    body: Any = response.json()
    media_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(media_id, str | int) or isinstance(media_id, bool) or media_id == "":
        raise Unavailable(
            f"mastodon: HTTP {response.status} without a media id ({response.detail()!r}); "
            "nothing was posted"
        )
    ready = response.status == 200 and bool(body.get("url"))
    return str(media_id), ready


async def upload(http: HttpClient, item: Media, *, poll_interval: float, max_wait: float) -> str:
    """Upload ``item`` with its alt text and return its id once the instance has processed it."""
    form = {"description": item.description} if item.description else None
    response = await http.request(
        "POST",
        "/api/v2/media",
        data=form,
        files={"file": (item.filename, item.content, item.content_type)},
        write=False,
        raise_for_status=False,
    )
    raise_for(response, http)
    media_id, ready = _media_id(response)
    deadline = time.monotonic() + max_wait
    while not ready:
        if time.monotonic() >= deadline:
            raise Unavailable(
                f"mastodon: {item.filename!r} was still being processed after {max_wait:g}s; "
                "nothing was posted"
            )
        await asyncio.sleep(poll_interval)
        answer = await http.request(
            "GET", f"/api/v1/media/{media_id}", write=False, raise_for_status=False
        )
        raise_for(answer, http)
        if answer.status == 200:
            ready = True
    return media_id
