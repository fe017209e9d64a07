"""Building MIME messages from EmailMessage records and parsing received ones into Replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aicmo_gateway.mime import build_message, html_to_text, message_id_for_key, parse_reply
from aicmo_gateway.ports import Attachment, EmailMessage


def message(**overrides: object) -> EmailMessage:
    fields: dict[str, object] = {
        "to": "ann@example.com",
        "subject": "Hello",
        "text": "Hi Ann",
        "sender": "sales@example.com",
    }
    fields.update(overrides)
    return EmailMessage(**fields)  # type: ignore[arg-type]


def reparse(msg: EmailMessage, **kwargs: object):  # type: ignore[no-untyped-def]
    raw = build_message(msg, **kwargs).as_bytes()  # type: ignore[arg-type]
    return raw, message_from_bytes(raw, policy=policy.default)


# -- build_message ---------------------------------------------------------------


def test_a_text_only_message_is_a_single_text_plain_part() -> None:
    _, parsed = reparse(message())
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().strip() == "Hi Ann"


def test_text_and_html_become_multipart_alternative() -> None:
    _, parsed = reparse(message(html="<p>Hi Ann</p>"))
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_an_html_only_message_is_text_html() -> None:
    _, parsed = reparse(message(text=None, html="<p>Hi</p>"))
    assert parsed.get_content_type() == "text/html"


def test_attachments_make_the_message_multipart_mixed_with_their_file_names() -> None:
    pdf = Attachment("offer.pdf", b"%PDF-1.4 data")
    _, parsed = reparse(message(attachments=[pdf]))
    assert parsed.get_content_type() == "multipart/mixed"
    (attached,) = parsed.iter_attachments()
    assert attached.get_filename() == "offer.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == b"%PDF-1.4 data"


def test_an_inline_attachment_sits_next_to_the_html_in_multipart_related() -> None:
    logo = Attachment("logo.png", b"\x89PNG", content_id="logo@example.com")
    _, parsed = reparse(message(html='<img src="cid:logo@example.com">', attachments=[logo]))
    html_alternative = list(parsed.iter_parts())[1]
    assert html_alternative.get_content_type() == "multipart/related"
    root, image = html_alternative.iter_parts()
    assert root.get_content_type() == "text/html"
    assert image["Content-ID"] == "<logo@example.com>"


def test_bcc_recipients_never_appear_in_the_headers() -> None:
    raw, parsed = reparse(message(cc="cat@example.com", bcc="hidden@example.com"))
    assert parsed["Cc"] == "cat@example.com"
    assert b"hidden@example.com" not in raw
    assert parsed["Bcc"] is None


def test_non_ascii_headers_are_encoded_and_decode_back() -> None:
    raw, parsed = reparse(
        message(subject="Grüße aus Köln ☕", sender="Jörg Müller <jorg@example.com>")
    )
    header_block = raw.split(b"\n\n", 1)[0]
    assert header_block.isascii()
    assert b"=?utf-8?" in header_block
    assert str(parsed["Subject"]) == "Grüße aus Köln ☕"
    assert parsed["From"].addresses[0].display_name == "Jörg Müller"


def test_a_non_ascii_body_is_transfer_encoded_as_seven_bit_safe_text() -> None:
    raw, parsed = reparse(message(text="Schöne Grüße"))
    assert raw.isascii()
    assert parsed.get_content().strip() == "Schöne Grüße"


def test_reply_to_threading_and_extra_headers_are_set() -> None:
    _, parsed = reparse(
        message(
            reply_to="replies@example.com",
            in_reply_to="<first@example.com>",
            references=["<root@example.com>", "<first@example.com>"],
            headers={"List-Unsubscribe": "<mailto:stop@example.com>"},
        )
    )
    assert parsed["Reply-To"] == "replies@example.com"
    assert parsed["In-Reply-To"] == "<first@example.com>"
    assert parsed["References"] == "<root@example.com> <first@example.com>"
    assert parsed["List-Unsubscribe"] == "<mailto:stop@example.com>"


def test_the_records_message_id_wins_over_the_given_one() -> None:
    _, parsed = reparse(message(message_id="<own@example.com>"), message_id="<given@example.com>")
    assert parsed["Message-ID"] == "<own@example.com>"


def test_the_given_message_id_is_used_when_the_record_has_none() -> None:
    _, parsed = reparse(message(), message_id="<given@example.com>")
    assert parsed["Message-ID"] == "<given@example.com>"


def test_a_message_id_is_generated_in_the_given_domain() -> None:
    _, parsed = reparse(message(), domain="mail.example.com")
    assert parsed["Message-ID"].endswith("@mail.example.com>")


def test_date_is_set() -> None:
    _, parsed = reparse(message(), date=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    assert parsed["Date"].datetime == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_the_default_sender_is_used_when_the_message_has_none() -> None:
    _, parsed = reparse(message(sender=None), default_sender="robot@example.com")
    assert parsed["From"] == "robot@example.com"


def test_a_message_without_any_sender_is_refused() -> None:
    with pytest.raises(ValueError, match="no sender"):
        build_message(message(sender=None))


# -- message_id_for_key ----------------------------------------------------------


def test_the_same_key_always_yields_the_same_message_id() -> None:
    assert message_id_for_key("order-42", "example.com") == message_id_for_key(
        "order-42", "example.com"
    )


def test_different_keys_yield_different_message_ids() -> None:
    assert message_id_for_key("a", "example.com") != message_id_for_key("b", "example.com")


def test_a_derived_message_id_is_valid_and_does_not_reveal_the_key() -> None:
    derived = message_id_for_key("secret-customer-key", "example.com")
    assert "secret-customer-key" not in derived
    assert message(message_id=derived).message_id == derived


# -- parse_reply -----------------------------------------------------------------


def raw_reply(headers: str, body: str = "Thanks!\n") -> bytes:
    return (headers.strip() + "\n\n" + body).encode("utf-8")


def test_a_built_message_parses_back_into_a_reply() -> None:
    sent = message(
        subject="Grüße",
        text="Schöne Grüße",
        html="<p>Schöne <b>Grüße</b></p>",
        cc="cat@example.com",
        message_id="<m1@example.com>",
    )
    reply = parse_reply(build_message(sent).as_bytes(), source_id="k1")
    assert reply.subject == "Grüße"
    assert reply.text.strip() == "Schöne Grüße"
    assert reply.html is not None
    assert "<b>Grüße</b>" in reply.html
    assert reply.sender == "sales@example.com"
    assert reply.to == ("ann@example.com",)
    assert reply.cc == ("cat@example.com",)
    assert reply.message_id == "<m1@example.com>"
    assert reply.source_id == "k1"
    assert reply.warnings == ()


def test_encoded_words_in_from_and_subject_are_decoded() -> None:
    raw = raw_reply(
        "From: =?iso-8859-1?q?J=F6rg?= <jorg@example.com>\n"
        "Subject: =?utf-8?b?R3LDvMOfZQ==?=\n"
        "To: sales@example.com"
    )
    reply = parse_reply(raw)
    assert reply.sender == "Jörg <jorg@example.com>"
    assert reply.subject == "Grüße"


def test_the_body_is_decoded_with_its_declared_charset() -> None:
    raw = (
        b"From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=iso-8859-1\n"
        b"\nGr\xfc\xdfe\n"
    )
    assert parse_reply(raw).text.strip() == "Grüße"


def test_the_plain_text_part_is_preferred_over_html() -> None:
    sent = message(text="plain words", html="<p>html words</p>")
    assert parse_reply(build_message(sent).as_bytes()).text.strip() == "plain words"


def test_an_html_only_reply_gets_its_text_from_the_html() -> None:
    sent = message(text=None, html="<style>p {}</style><p>Hello&nbsp;there</p><p>Bye</p>")
    reply = parse_reply(build_message(sent).as_bytes())
    assert reply.text == "Hello there\n\nBye"
    assert reply.html is not None


def test_html_to_text_drops_scripts_and_keeps_blocks_on_their_own_lines() -> None:
    html = "<html><head><title>t</title></head><body><script>x()</script>A<br>B<div>C</div>"
    assert html_to_text(html) == "A\nB\nC"


def test_thread_id_is_the_first_reference() -> None:
    raw = raw_reply(
        "From: a@example.com\nMessage-ID: <3@x.com>\nIn-Reply-To: <2@x.com>\n"
        "References: <1@x.com> <2@x.com>"
    )
    reply = parse_reply(raw)
    assert reply.thread_id == "<1@x.com>"
    assert reply.references == ("<1@x.com>", "<2@x.com>")
    assert reply.in_reply_to == "<2@x.com>"


def test_thread_id_falls_back_to_in_reply_to() -> None:
    raw = raw_reply("From: a@example.com\nMessage-ID: <3@x.com>\nIn-Reply-To: <2@x.com>")
    assert parse_reply(raw).thread_id == "<2@x.com>"


def test_thread_id_of_a_first_message_is_its_own_message_id() -> None:
    raw = raw_reply("From: a@example.com\nMessage-ID: <3@x.com>")
    assert parse_reply(raw).thread_id == "<3@x.com>"


def test_received_at_comes_from_the_argument_first() -> None:
    when = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
    raw = raw_reply("From: a@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000")
    assert parse_reply(raw, received_at=when).received_at == when


def test_received_at_comes_from_the_date_header_with_its_zone() -> None:
    raw = raw_reply("From: a@example.com\nDate: Mon, 1 Jan 2024 10:00:00 +0200")
    received = parse_reply(raw).received_at
    assert received == datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))


def test_a_date_without_zone_is_taken_as_utc() -> None:
    raw = raw_reply("From: a@example.com\nDate: Mon, 1 Jan 2024 10:00:00 -0000")
    assert parse_reply(raw).received_at == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)


def test_an_unknown_charset_falls_back_to_utf8_with_a_warning() -> None:
    raw = (
        b"From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=x-bogus-42\n"
        b"\nna\xc3\xafve \xff\n"
    )
    reply = parse_reply(raw)
    assert reply.text.strip() == "naïve \ufffd"
    assert any("x-bogus-42" in warning for warning in reply.warnings)


def test_a_bad_date_gives_a_warning_and_no_received_at() -> None:
    reply = parse_reply(raw_reply("From: a@example.com\nDate: the day after tomorrow"))
    assert reply.received_at is None
    assert any(warning.startswith("Date:") for warning in reply.warnings)


def test_a_malformed_message_gives_what_could_be_parsed_and_warnings() -> None:
    raw = (
        b"From: a@example.com\nSubject: still here\nTo: <<<broken\n"
        b"Content-Type: multipart/mixed\n\nno boundary at all\n"
    )
    reply = parse_reply(raw)
    assert reply.sender == "a@example.com"
    assert reply.subject == "still here"
    assert reply.warnings


@given(st.binary(max_size=2000))
def test_parsing_arbitrary_bytes_never_raises(raw: bytes) -> None:
    parse_reply(raw)


HEADER_NAMES = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
                "References", "Content-Type", "Content-Transfer-Encoding"]  # fmt: skip


@given(
    st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.text(max_size=60)), max_size=12),
    st.binary(max_size=300),
)
def test_parsing_random_headers_never_raises(headers: list[tuple[str, str]], body: bytes) -> None:
    lines = [f"{name}: {value}" for name, value in headers]
    raw = "\n".join(lines).encode("utf-8", errors="surrogateescape") + b"\n\n" + body
    parse_reply(raw)
