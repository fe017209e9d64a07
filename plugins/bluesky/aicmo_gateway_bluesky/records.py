"""What goes into an ``app.bsky.feed.post`` record, and checks made before anything is sent.

From the lexicons ``app.bsky.feed.post`` (``text``, ``facets``, ``reply``, ``embed``,
``langs``, ``createdAt``), ``app.bsky.embed.images`` (at most 4 images, each ``accept:
image/*``, ``maxSize: 2000000`` bytes since April 2026, 1,000,000 before; ``alt`` required, may
be empty), ``app.bsky.richtext.facet`` and ``com.atproto.repo.strongRef`` (``uri``, ``cid``).
"""

from __future__ import annotations

import re
from typing import Any

from aicmo_gateway import InvalidInput, Unavailable
from aicmo_gateway.ports import Media, SocialPost
from aicmo_gateway_bluesky.text import MAX_BYTES, MAX_GRAPHEMES, Span, byte_length, graphemes

__all__ = [
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "check_post",
    "facet",
    "images_embed",
    "parse_post_ref",
    "post_text",
]

POST = "app.bsky.feed.post"
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 2_000_000
_AT_URI = re.compile(r"^at://([^/\s]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]{1,512})$")
_WEB_URL = re.compile(r"^https://bsky\.app/profile/([^/\s]+)/post/([A-Za-z0-9._:~-]{1,512})$")


def post_text(post: SocialPost) -> str:
    """The text to publish: the post's, with its link on a line of its own when not in it."""
    if post.link and post.link not in post.text:
        return f"{post.text}\n\n{post.link}"
    return post.text


def check_post(post: SocialPost, text: str) -> None:
    """Refuse, before sending, what Bluesky would refuse or cannot show as asked."""
    if post.visibility != "public":
        raise Unavailable(
            f"bluesky: every Bluesky post is public, but this one asks for visibility "
            f"{post.visibility!r}; send it through a provider that has that visibility"
        )
    if post.spoiler:
        raise Unavailable(
            "bluesky: Bluesky has no content warning text (SocialPost.spoiler); send this post "
            "through a provider that has one (e.g. Mastodon), or leave the warning out"
        )
    count, size = graphemes(text), byte_length(text)
    if count > MAX_GRAPHEMES or size > MAX_BYTES:
        raise InvalidInput(
            f"bluesky: the post is {count} characters (grapheme clusters) and {size} UTF-8 "
            f"bytes; Bluesky allows at most {MAX_GRAPHEMES} characters and {MAX_BYTES} bytes: "
            "shorten it",
            field="SocialPost.text",
        )
    if len(post.media) > MAX_IMAGES:
        raise InvalidInput(
            f"bluesky: the post has {len(post.media)} images; Bluesky takes at most "
            f"{MAX_IMAGES} per post",
            field="SocialPost.media",
        )
    for i, item in enumerate(post.media):
        _check_image(item, f"SocialPost.media[{i}]")


def _check_image(item: Media, field: str) -> None:
    if not item.content_type.startswith("image/"):
        raise Unavailable(
            f"bluesky: {item.filename!r} is {item.content_type}; this provider posts images "
            "only: send videos and audio through another provider"
        )
    if len(item.content) > MAX_IMAGE_BYTES:
        raise InvalidInput(
            f"bluesky: {item.filename!r} has {len(item.content)} bytes; Bluesky takes images "
            f"of at most {MAX_IMAGE_BYTES} bytes: resize or compress it",
            field=field,
        )


def facet(span: Span, did: str | None = None) -> dict[str, Any]:
    """The ``app.bsky.richtext.facet`` for ``span`` (a mention needs its resolved ``did``)."""
    if span.kind == "link":
        feature: dict[str, Any] = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
    elif span.kind == "mention":
        feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
    else:
        feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
    return {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
        "features": [feature],
    }


def images_embed(media: tuple[Media, ...], blobs: list[Any]) -> dict[str, Any]:
    """The ``app.bsky.embed.images`` embed of the uploaded ``blobs``, with their alt texts."""
    return {
        "$type": "app.bsky.embed.images",
        "images": [
            {"alt": item.description or "", "image": blob}
            for item, blob in zip(media, blobs, strict=True)
        ],
    }


def parse_post_ref(value: str) -> tuple[str, str]:
    """``(repo, rkey)`` of the post ``value`` names: an at:// URI or its bsky.app page."""
    found = _AT_URI.match(value) or _WEB_URL.match(value)
    if found is None:
        raise InvalidInput(
            f"bluesky: in_reply_to {value!r} is not a Bluesky post; give its at:// URI (the "
            "post_id of its receipt) or its https://bsky.app/profile/.../post/... address",
            field="SocialPost.in_reply_to",
        )
    return found.group(1), found.group(2)
