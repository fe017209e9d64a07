"""The social posting and webhook records."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import DeliveryReceipt, Media, PostReceipt, SocialPost, WebhookEvent

# -- Media ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("photo.png", "image/png"), ("clip.mp4", "video/mp4"), ("a.JPG", "image/jpeg")],
)
def test_a_media_content_type_is_guessed_from_the_file_name(filename, content_type):
    assert Media(filename=filename, content=b"x").content_type == content_type


def test_a_given_media_content_type_is_kept():
    assert Media(filename="upload", content=b"x", content_type="image/webp").content_type == (
        "image/webp"
    )


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("report.pdf", ""), ("notes.txt", ""), ("photo.png", "application/pdf"), ("blob", "")],
)
def test_media_that_is_not_an_image_video_or_audio_is_refused(filename, content_type):
    with pytest.raises(InvalidInput, match="a post takes images, videos or audio") as info:
        Media(filename=filename, content=b"x", content_type=content_type)
    assert info.value.field == "Media.content_type"
    assert "pass content_type=" in str(info.value)


def test_a_malformed_media_content_type_is_refused():
    with pytest.raises(InvalidInput, match="is not a MIME type"):
        Media(filename="a.png", content=b"x", content_type="image/png\r\nX-Evil: 1")


def test_media_content_must_be_bytes():
    with pytest.raises(InvalidInput, match=r"Media\.content: expected bytes, got str"):
        Media(filename="a.png", content="not bytes")
    assert Media(filename="a.png", content=bytearray(b"ab")).content == b"ab"


@pytest.mark.parametrize("name", ["", "dir/a.png", "..\\a.png"])
def test_a_media_filename_must_be_a_bare_name(name):
    with pytest.raises(InvalidInput, match=r"Media\.filename"):
        Media(filename=name, content=b"x")


def test_media_content_is_not_in_its_repr():
    assert "raw-bytes" not in repr(Media(filename="a.png", content=b"raw-bytes"))


# -- SocialPost ------------------------------------------------------------------------


def test_a_post_is_public_by_default():
    assert SocialPost(text="Hello").visibility == "public"


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_the_known_visibilities_are_accepted(visibility):
    assert SocialPost(text="Hello", visibility=visibility).visibility == visibility


@pytest.mark.parametrize("visibility", ["Public", "friends", "", None, ["public"]])
def test_an_unknown_visibility_is_refused_listing_the_valid_ones(visibility):
    with pytest.raises(InvalidInput, match="is not a visibility") as info:
        SocialPost(text="Hello", visibility=visibility)
    assert info.value.field == "SocialPost.visibility"
    assert "public, unlisted, private, direct" in str(info.value)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_a_post_without_text_is_refused(text):
    with pytest.raises(InvalidInput, match=r"SocialPost\.text: is empty") as info:
        SocialPost(text=text)
    assert info.value.field == "SocialPost.text"


def test_a_post_takes_one_media_or_several():
    image = Media(filename="a.png", content=b"x", description="a cat")
    assert SocialPost(text="Hi", media=image).media == (image,)
    assert SocialPost(text="Hi", media=[image, image]).media == (image, image)


def test_something_other_than_media_is_refused_naming_its_position():
    image = Media(filename="a.png", content=b"x")
    with pytest.raises(InvalidInput, match=r"SocialPost\.media\[1\]: expected a Media, got bytes"):
        SocialPost(text="Hi", media=[image, b"raw"])


def test_a_post_and_its_receipt_are_frozen():
    post = SocialPost(text="Hi")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        post.text = "Bye"  # type: ignore[misc]
    receipt = PostReceipt(post_id="1", url="https://example.social/@a/1")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        receipt.url = None  # type: ignore[misc]
    assert receipt.performed is True


# -- WebhookEvent -----------------------------------------------------------------------


@pytest.mark.parametrize("type_", ["lead.replied", "email_sent", "crm:contact.created", "A-1"])
def test_dotted_event_types_are_accepted(type_):
    assert WebhookEvent(type=type_).type == type_


@pytest.mark.parametrize("type_", ["", ".lead", "lead replied", "lead/replied", "x" * 101, None])
def test_a_malformed_event_type_is_refused_with_an_example(type_):
    with pytest.raises(InvalidInput, match=r"use a dotted name such as 'lead\.replied'") as info:
        WebhookEvent(type=type_)
    assert info.value.field == "WebhookEvent.type"


def test_non_json_data_is_refused_naming_the_path_and_the_fix():
    with pytest.raises(InvalidInput) as info:
        WebhookEvent(type="lead.replied", data={"lead": {"seen": [1, datetime.now(UTC)]}})
    text = str(info.value)
    assert text.startswith("WebhookEvent.data['lead']['seen'][1]: a value of type datetime")
    assert "is not JSON-serialisable" in text
    assert "isoformat()" in text
    assert info.value.field == "WebhookEvent.data"


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", Decimal("1.5"), date(2024, 1, 1), object()])
def test_values_json_cannot_hold_are_refused(value):
    with pytest.raises(
        InvalidInput, match=r"WebhookEvent\.data\['x'\]: a value of type \w+ is not JSON"
    ):
        WebhookEvent(type="t", data={"x": value})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(InvalidInput, match="has no JSON form"):
        WebhookEvent(type="t", data={"x": value})


def test_a_nested_non_string_key_is_refused():
    with pytest.raises(
        InvalidInput, match=r"the key 1 is not a string; JSON object keys are strings"
    ):
        WebhookEvent(type="t", data={"x": {1: "one"}})


def test_data_that_is_not_a_mapping_is_refused():
    with pytest.raises(InvalidInput, match=r"WebhookEvent\.data: expected a mapping, got list"):
        WebhookEvent(type="t", data=[1, 2])


def test_event_data_is_a_read_only_copy():
    source = {"lead": {"email": "ann@example.com"}, "tags": ["a"]}
    event = WebhookEvent(type="lead.replied", data=source)
    source["lead"]["email"] = "changed@example.com"
    source["tags"].append("b")
    assert event.data == {"lead": {"email": "ann@example.com"}, "tags": ["a"]}
    with pytest.raises(TypeError):
        event.data["lead"] = {}  # type: ignore[index]


def test_event_data_keeps_plain_json_types():
    class Kind(StrEnum):
        REPLY = "reply"

    event = WebhookEvent(type="t", data={"kind": Kind.REPLY, "pair": (1, 2), "ok": True})
    assert event.data == {"kind": "reply", "pair": [1, 2], "ok": True}
    assert type(event.data["kind"]) is str


def test_occurred_at_defaults_to_now_in_utc():
    event = WebhookEvent(type="t")
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - event.occurred_at) < timedelta(seconds=5)


def test_a_naive_occurred_at_is_refused():
    with pytest.raises(InvalidInput, match="no timezone") as info:
        WebhookEvent(type="t", occurred_at=datetime(2024, 1, 1))
    assert info.value.field == "WebhookEvent.occurred_at"


def test_an_occurred_at_of_none_is_refused():
    with pytest.raises(InvalidInput, match="got None"):
        WebhookEvent(type="t", occurred_at=None)


def test_to_json_is_compact_sorted_and_carries_type_timestamp_and_data():
    when = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    event = WebhookEvent(type="lead.replied", data={"b": 1, "a": "é"}, occurred_at=when)
    text = event.to_json()
    assert text == (
        '{"data":{"a":"\\u00e9","b":1},"timestamp":"2024-05-01T12:30:00+02:00",'
        '"type":"lead.replied"}'
    )
    assert json.loads(text)["data"] == {"a": "é", "b": 1}


def test_an_event_id_with_a_line_break_is_refused():
    # the id travels as the Standard Webhooks ``webhook-id`` header
    with pytest.raises(InvalidInput, match="line break") as info:
        WebhookEvent(type="t", id="evt_1\r\nX-Evil: 1")
    assert info.value.field == "WebhookEvent.id"


def test_an_event_is_frozen():
    event = WebhookEvent(type="t", id="evt_1")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.id = "evt_2"  # type: ignore[misc]


def test_a_delivery_receipt_is_frozen_and_reports_a_real_delivery_by_default():
    receipt = DeliveryReceipt(status_code=204)
    assert receipt.performed is True
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        receipt.status_code = 500  # type: ignore[misc]


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), _json, max_size=5))
def test_any_json_data_round_trips_through_to_json(data):
    event = WebhookEvent(type="t", data=data)
    assert json.loads(event.to_json())["data"] == data
