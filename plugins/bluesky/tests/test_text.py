"""Graphemes, the 300-grapheme limit and facets with UTF-8 byte offsets.

Follows the lexicons ``app.bsky.feed.post`` (``text``: ``maxGraphemes`` 300, ``maxLength`` 3000
bytes) and ``app.bsky.richtext.facet`` (``byteStart``/``byteEnd`` over the UTF-8 bytes, end
exclusive; ``#link``, ``#mention`` with a DID, ``#tag`` without the ``#``), and docs.bsky.app
advanced-guides/post-richtext. Each offset is checked by slicing the encoded text.
"""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_bluesky.plugin import bluesky_poster
from aicmo_gateway_bluesky.text import find_spans, graphemes

from aicmo_gateway import Gateway, InvalidInput, Status
from aicmo_gateway.ports import SocialPost

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one ZWJ sequence
FLAG = "\U0001f1ef\U0001f1f5"  # regional indicators J + P
E_ACUTE = "e\u0301"  # e + combining acute accent


def sliced(text: str, facet: dict[str, Any]) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


async def publish(settings: dict[str, Any], post: SocialPost, key: str = "t-1") -> Any:
    poster = bluesky_poster(**settings)
    try:
        return await poster.post(post, idempotency_key=key)
    finally:
        await poster.aclose()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FAMILY, 1),
        (FLAG * 2, 2),
        (E_ACUTE * 3, 3),
        ("한국어", 3),
        ("नमस्ते", 3),
        ("👍🏽", 1),
        ("a\r\nb", 3),  # CR LF is one cluster
    ],
)
def test_graphemes_are_extended_grapheme_clusters(text, expected):
    assert graphemes(text) == expected


async def test_facets_after_emoji_combining_marks_and_non_latin_text_have_byte_offsets(
    pds, settings
):
    text = (
        f"{FAMILY}{FLAG} Caf{E_ACUTE} \u043f\u0440\u0438\u0432\u0435\u0442 @alice.bsky.social: "
        "日本語 https://例え.jp/パス?q=ü). #日本語 #café, and @日本.example.com"
    )
    await publish(settings, SocialPost(text=text))
    (record,) = [r["value"] for r in pds.records.values()]
    assert record["text"] == text
    found = [(sliced(text, f), f["features"][0]) for f in record["facets"]]
    assert found == [
        (
            "@alice.bsky.social",
            {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"},
        ),
        (
            "https://例え.jp/パス?q=ü",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://例え.jp/パス?q=ü"},
        ),
        ("#日本語", {"$type": "app.bsky.richtext.facet#tag", "tag": "日本語"}),
        ("#café", {"$type": "app.bsky.richtext.facet#tag", "tag": "café"}),
    ]
    # the offsets are bytes, not characters
    assert record["facets"][0]["index"]["byteStart"] == len(text[: text.index("@")].encode())
    assert record["facets"][0]["index"]["byteStart"] != text.index("@")


async def test_a_mention_that_does_not_resolve_stays_plain_text(pds, settings):
    await publish(settings, SocialPost(text="hi @nobody.example.org and @alice.bsky.social"))
    (record,) = [r["value"] for r in pds.records.values()]
    assert [sliced(record["text"], f) for f in record["facets"]] == ["@alice.bsky.social"]


def test_trailing_punctuation_is_not_part_of_a_link_or_tag():
    spans = find_spans("see (https://example.com/a), #launch! and #2026 #q4.")
    assert [(s.kind, s.value) for s in spans] == [
        ("link", "https://example.com/a"),
        ("tag", "launch"),
        ("tag", "q4"),
    ]


def test_an_email_address_is_neither_a_mention_nor_a_link():
    assert find_spans("write to sales@example.com") == []


async def test_the_appended_link_gets_a_link_facet(pds, settings):
    await publish(settings, SocialPost(text="Nouveautés ✨", link="https://example.com/n"))
    (record,) = [r["value"] for r in pds.records.values()]
    assert record["text"] == "Nouveautés ✨\n\nhttps://example.com/n"
    assert [sliced(record["text"], f) for f in record["facets"]] == ["https://example.com/n"]


# -- the 300-grapheme limit, before sending ---------------------------------------------------


async def test_300_graphemes_of_emoji_sequences_are_sent(pds, settings):
    text = FAMILY * 50 + E_ACUTE * 100 + "字" * 100 + FLAG * 50  # 300 graphemes, 2,250 bytes
    assert len(text) > 300 and len(text.encode()) <= 3000
    await publish(settings, SocialPost(text=text))
    assert len(pds.records) == 1


async def test_301_graphemes_are_rejected_without_any_request(pds, settings):
    with pytest.raises(InvalidInput, match=r"301 characters.*at most 300") as caught:
        await publish(settings, SocialPost(text=FLAG * 301))
    assert caught.value.field == "SocialPost.text"
    assert pds.requests == []


async def test_more_than_3000_bytes_are_rejected_even_under_300_graphemes(pds, settings):
    with pytest.raises(InvalidInput, match=r"200 characters.*5000 UTF-8 bytes"):
        await publish(settings, SocialPost(text=FAMILY * 200))
    assert pds.requests == []


async def test_through_the_gateway_a_too_long_post_is_rejected_not_failed_over(pds, settings):
    config = {
        "capabilities": {"social_posting": {"providers": ["bluesky", "spare"]}},
        "providers": {"bluesky": {"type": "bluesky", **settings}, "spare": {"type": "noop"}},
    }
    async with Gateway.from_config(config, env={}) as gateway:
        outcome = await gateway.social_posting.post(SocialPost(text="x" * 301))
    assert outcome.status is Status.REJECTED
    assert [a.provider for a in outcome.attempts] == ["bluesky"]
