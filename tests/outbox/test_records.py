"""Every port record round-trips through the outbox's JSON text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aicmo_gateway.ports import (
    Attachment,
    Contact,
    EmailMessage,
    Engagement,
    Media,
    SocialPost,
    WebhookEvent,
)
from aicmo_gateway.secret import Secret
from aicmo_gateway.state.outbox.records import RecordError, decode, encode

WHEN = datetime(2026, 11, 30, 7, 5, tzinfo=UTC)


def samples() -> list[object]:
    return [
        EmailMessage(
            to=["a@example.com", "b@example.com"],
            subject="Hi",
            text="text",
            html="<p>html</p>",
            sender="me@example.com",
            cc=["c@example.com"],
            headers={"X-Campaign": "42"},
            attachments=[
                Attachment("x.pdf", b"%PDF\x00\xff", "application/pdf"),
                Attachment("logo.png", b"\x89PNG", "image/png", content_id="logo@x"),
            ],
        ),
        (Contact("a@example.com", first_name="Ann", attributes={"score": 3}), Contact("b@x.org")),
        Engagement("a@example.com", "email_opened", occurred_at=WHEN, external_id="e-1"),
        SocialPost("Hello", media=[Media("a.png", b"\x00\x01", "image/png", description="x")]),
        WebhookEvent("lead.created", {"id": 3, "tags": ["a", "b"], "nested": {"ok": True}}),
        None,
        "cursor-1",
    ]


@pytest.mark.parametrize("record", samples(), ids=lambda r: type(r).__name__)
def test_a_record_round_trips(record):
    assert decode(encode(record)) == record


@given(st.binary(min_size=1, max_size=300), st.datetimes(timezones=st.just(UTC)))
def test_bytes_and_datetimes_round_trip_whatever_they_are(content, when):
    msg = EmailMessage(
        to=["a@example.com"], subject="s", text="t", attachments=[Attachment("f.bin", content)]
    )
    assert decode(encode(msg)) == msg
    engagement = Engagement("a@example.com", "email_opened", occurred_at=when)
    assert decode(encode(engagement)) == engagement


def test_a_secret_is_never_stored():
    with pytest.raises(RecordError, match="never stores secrets") as info:
        encode(("cursor", {"token": Secret("s3cr3t-value")}))
    assert "s3cr3t" not in str(info.value)


def test_unreadable_text_is_a_record_error():
    with pytest.raises(RecordError, match="unknown record"):
        decode('{"$record": "os.system", "fields": {}}')
    with pytest.raises(RecordError, match="unreadable"):
        decode("{not json")
