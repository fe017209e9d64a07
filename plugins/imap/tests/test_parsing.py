"""Messages as mail clients really send them: odd charsets, encoded words, broken ones."""

from __future__ import annotations

from typing import Any

from aicmo_gateway.ports import Reply


def fetch_one(make_fetcher: Any, mailroom: Any, raw: bytes) -> Reply:
    mailroom.deliver(raw)
    (reply,) = make_fetcher().fetch_replies(None).replies
    return reply


def head(subject: str, content_type: str, encoding: str = "8bit") -> bytes:
    return (
        "From: Lead <lead@example.com>\r\n"
        "To: sales@example.com\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <charset@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode("ascii")


def test_an_iso_8859_1_body_is_decoded(make_fetcher: Any, mailroom: Any):
    raw = head("Re: Angebot", "text/plain; charset=ISO-8859-1") + "Grüße aus Köln\r\n".encode(
        "iso-8859-1"
    )
    reply = fetch_one(make_fetcher, mailroom, raw)
    assert "Grüße aus Köln" in reply.text
    assert reply.warnings == ()


def test_a_windows_1252_quoted_printable_body_is_decoded(make_fetcher: Any, mailroom: Any):
    text = "\u201cThanks\u201d \u2013 the price is 10 \u20ac \u2018each\u2019"  # curly, en dash
    body = f"{text}\r\n".encode("cp1252")
    quoted = "".join(f"={b:02X}" if b > 126 or b == 61 else chr(b) for b in body)
    raw = head("Re: price", "text/plain; charset=windows-1252", "quoted-printable")
    reply = fetch_one(make_fetcher, mailroom, raw + quoted.encode("ascii"))
    assert text in reply.text


def test_encoded_word_subject_and_sender_are_decoded(make_fetcher: Any, mailroom: Any):
    raw = (
        b"From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.com>\r\n"
        b"To: =?utf-8?b?U8O4cmVu?= <soren@example.com>\r\n"
        b"Subject: =?utf-8?q?Re:_Gr=C3=BC=C3=9Fe?= =?utf-8?b?IOKckw==?=\r\n"
        b"Message-ID: <encoded@example.com>\r\n\r\nJa.\r\n"
    )
    reply = fetch_one(make_fetcher, mailroom, raw)
    assert reply.subject == "Re: Grüße ✓"
    assert reply.sender == "Jörg Müller <joerg@example.com>"
    assert reply.to == ("Søren <soren@example.com>",)


def test_an_html_only_reply_gets_a_text_version(make_fetcher: Any, mailroom: Any):
    raw = head("Re: demo", "text/html; charset=utf-8") + (
        b"<html><body><p>Yes, <b>Tuesday</b> works.</p><p>Ana</p></body></html>\r\n"
    )
    reply = fetch_one(make_fetcher, mailroom, raw)
    assert reply.text == "Yes, Tuesday works.\n\nAna"
    assert reply.html is not None and "<b>Tuesday</b>" in reply.html


def test_the_text_part_of_a_multipart_reply_is_chosen(make_fetcher: Any, mailroom: Any):
    raw = head("Re: offer", 'multipart/alternative; boundary="b1"', "7bit") + (
        b"--b1\r\nContent-Type: text/plain; charset=iso-8859-15\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nPrix: 5 \xa4\r\n"
        b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Prix: 5 \xe2\x82\xac</p>\r\n"
        b"--b1--\r\n"
    )
    reply = fetch_one(make_fetcher, mailroom, raw)
    assert reply.text.strip() == "Prix: 5 €"
    assert reply.html is not None and "5 €" in reply.html


def test_a_bogus_charset_gives_the_text_with_a_warning(make_fetcher: Any, mailroom: Any):
    raw = head("Re: hi", "text/plain; charset=x-no-such-charset") + b"caf\xc3\xa9 ok\r\n"
    reply = fetch_one(make_fetcher, mailroom, raw)
    assert "café ok" in reply.text
    assert any("x-no-such-charset" in w for w in reply.warnings)
    assert reply.subject == "Re: hi"


def test_a_malformed_message_comes_back_with_what_could_be_read(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    mailroom.deliver(
        b"From: not an address <<>\r\n"
        b"Subject: =?utf-8?q?broken_=ZZ?=\r\n"
        b"Date: yesterday-ish\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain\r\n\r\nstill readable \xff\xfe\r\n"
    )
    mailroom.deliver(raw_message(2))
    batch = make_fetcher().fetch_replies(None)
    broken, fine = batch.replies
    assert broken.warnings  # each problem is named ...
    assert "still readable" in broken.text  # ... and what could be read is there
    assert broken.received_at is not None  # the server's arrival time, not the bad Date
    assert fine.message_id == "<reply-2@example.com>" and fine.warnings == ()


def test_a_message_without_headers_does_not_stop_the_fetch(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    mailroom.deliver(b"\x00\x01 this is not an email at all \xff\r\n")
    mailroom.deliver(raw_message(2))
    batch = make_fetcher().fetch_replies(None)
    assert len(batch.replies) == 2
    assert batch.replies[1].message_id == "<reply-2@example.com>"
