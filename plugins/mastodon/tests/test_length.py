"""The length limit, counted as Mastodon counts it and enforced before anything is sent.

Follows Mastodon's StatusLengthValidator (app/validators/status_length_validator.rb) as
documented at docs.joinmastodon.org/user/posting#text: grapheme clusters, every http(s) URL as
``characters_reserved_per_url``, a remote mention as its local part, the content warning
included; the limit is the instance's ``configuration.statuses.max_characters``.
"""

from __future__ import annotations

import pytest
from aicmo_gateway_mastodon.length import count_characters, countable_text, graphemes
from aicmo_gateway_mastodon.plugin import mastodon_poster

from aicmo_gateway import Gateway, InvalidInput, Status
from aicmo_gateway.ports import SocialPost

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one ZWJ sequence
FLAG = "\U0001f1eb\U0001f1f7"  # regional indicators F + R
E_ACUTE = "e\u0301"  # e + combining acute accent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        (FAMILY, 1),
        (FLAG * 3, 3),
        (E_ACUTE * 4, 4),
        ("नमस्ते", 3),  # Devanagari: conjuncts and vowel signs join their consonant
        ("日本語のテキスト", 8),
        ("👍🏽", 1),  # emoji + skin tone modifier
    ],
)
def test_characters_are_grapheme_clusters(text, expected):
    assert graphemes(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/a/very/long/path/that/goes/on/and/on?with=query&and=more#fragment",
        "https://例え.jp/パス",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
    ],
)
def test_every_url_counts_as_23_characters(url):
    assert count_characters(f"see {url}") == 4 + 23


def test_punctuation_after_a_url_is_not_part_of_it():
    assert count_characters("(https://example.com/page).") == 1 + 23 + 2


def test_a_url_without_a_scheme_counts_in_full():
    assert count_characters("example.com/page") == len("example.com/page")


def test_the_instance_may_reserve_another_length_per_url():
    assert count_characters("https://example.com/x", url_length=30) == 30


def test_a_remote_mention_counts_without_its_domain():
    assert countable_text("hi @alice@mastodon.example!") == "hi @alice!"
    assert count_characters("hi @alice@mastodon.example") == len("hi @alice")
    assert count_characters("@bob") == 4


def test_an_email_address_is_not_a_mention():
    assert count_characters("mail x@y.example") == len("mail x@y.example")


def test_a_mention_inside_a_url_is_part_of_the_url():
    assert count_characters("https://example.com/@alice@example.org") == 23


def test_the_content_warning_counts_too():
    assert count_characters("body", spoiler="CW: food") == len("CW: foodbody")


# -- enforced before sending -------------------------------------------------------------------


async def post(settings, post, key="k-1"):
    poster = mastodon_poster(**settings)
    try:
        return await poster.post(post, idempotency_key=key)
    finally:
        await poster.aclose()


async def test_a_post_at_the_instances_limit_is_sent(mastodon, settings):
    mastodon.instance["configuration"]["statuses"]["max_characters"] = 30
    text = "x" * 6 + " https://example.com/" + "y" * 200  # 7 + 23 = 30 as Mastodon counts
    receipt = await post(settings, SocialPost(text=text))
    assert receipt.post_id == mastodon.statuses[0]["id"]


async def test_a_post_over_the_limit_is_rejected_with_the_limit_and_nothing_is_sent(
    mastodon, settings
):
    mastodon.instance["configuration"]["statuses"]["max_characters"] = 30
    text = FAMILY * 8 + " https://example.com/ @ada@example.org"  # 8 + 1 + 23 + 1 + 4 = 37
    with pytest.raises(InvalidInput, match=r"37 characters.*at most 30") as caught:
        await post(settings, SocialPost(text=text))
    assert caught.value.field == "SocialPost.text"
    assert mastodon.paths("POST") == []


async def test_the_instances_url_length_is_used(mastodon, settings):
    statuses = mastodon.instance["configuration"]["statuses"]
    statuses.update(max_characters=20, characters_reserved_per_url=10)
    await post(settings, SocialPost(text="a" * 9 + " https://example.com/" + "p" * 50))  # 20
    with pytest.raises(InvalidInput, match=r"21 characters.*every URL as 10"):
        await post(settings, SocialPost(text="a" * 10 + " https://example.com/"), key="k-2")
    assert len(mastodon.statuses) == 1


async def test_the_content_warning_and_an_appended_link_count_against_the_limit(mastodon, settings):
    mastodon.instance["configuration"]["statuses"]["max_characters"] = 30
    fits = SocialPost(text="a" * 5, spoiler="b" * 25)
    too_long = SocialPost(text="a" * 4, spoiler="b" * 2, link="https://example.com/long")
    await post(settings, fits)  # 30
    with pytest.raises(InvalidInput, match="31 characters"):
        await post(settings, SocialPost(text="a" * 6, spoiler="b" * 25), key="k-2")  # 31
    assert count_characters("aaaa\n\nhttps://example.com/long", "bb") == 31
    with pytest.raises(InvalidInput, match="31 characters"):
        await post(settings, too_long, key="k-3")
    assert len(mastodon.statuses) == 1


async def test_through_the_gateway_a_too_long_post_is_rejected_not_failed_over(mastodon, settings):
    config = {
        "capabilities": {"social_posting": {"providers": ["mastodon", "spare"]}},
        "providers": {"mastodon": {"type": "mastodon", **settings}, "spare": {"type": "noop"}},
    }
    async with Gateway.from_config(config, env={}) as gateway:
        outcome = await gateway.social_posting.post(SocialPost(text="x" * 501))
    assert outcome.status is Status.REJECTED
    assert "at most 500" in (outcome.reason or "")
    assert [a.provider for a in outcome.attempts] == ["mastodon"]
