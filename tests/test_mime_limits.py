"""parse_reply's work limits: poison messages parse quickly, cut to the limits, with warnings.

Each poison shape took 10-50 s to parse before the limits (23-51 s measured on the
CI machine's size); the bound below is far above their cost now (about a second of CPU for
the largest message here) and far below that. It bounds the CPU time of this process, not
the wall time, so a machine busy with other work cannot make it fail.
"""

from __future__ import annotations

import time

import pytest

from aicmo_gateway.mime import html_to_text, parse_reply
from aicmo_gateway.mime.limits import (
    MAX_ADDRESSES,
    MAX_HEADER_CHARS,
    MAX_MULTIPARTS,
    MAX_PARAMETERS,
    MAX_PARTS,
)
from aicmo_gateway.ports import Reply
from aicmo_gateway.testing.poison import POISON

BOUND_SECONDS = 5.0


def timed(raw: bytes) -> Reply:
    started = time.process_time()
    reply = parse_reply(raw, source_id="k")
    elapsed = time.process_time() - started
    assert elapsed < BOUND_SECONDS, f"{len(raw):,} bytes took {elapsed:.1f} s of CPU"
    return reply


@pytest.mark.parametrize("shape", sorted(POISON))
def test_a_poison_message_parses_quickly_with_a_warning_and_its_other_fields(shape: str) -> None:
    reply = timed(POISON[shape]("<p@example.com>"))
    assert reply.message_id == "<p@example.com>"
    assert reply.sender == "Mallory <mallory@example.com>"
    assert reply.text.strip() == "A poisoned reply."
    assert reply.warnings
    assert all("could not be parsed" not in w for w in reply.warnings)


def test_continuations_beyond_the_limit_are_cut_with_a_warning_naming_the_header() -> None:
    reply = timed(POISON["rfc2231-continuations"]("<p@example.com>"))
    assert any(
        w.startswith("Content-Type:") and f"more than {MAX_PARAMETERS} parameters" in w
        for w in reply.warnings
    )


def test_addresses_beyond_the_limit_are_dropped_and_the_first_ones_kept() -> None:
    to = ", ".join(f"u{i}@x.io" for i in range(MAX_ADDRESSES + 500))
    reply = timed(f"From: a@x.io\r\nTo: {to}\r\n\r\nhi\r\n".encode())
    assert reply.to[:2] == ("u0@x.io", "u1@x.io")
    assert len(reply.to) == MAX_ADDRESSES
    assert any(w.startswith("To: more than 1,000 addresses") for w in reply.warnings)


def test_a_header_over_the_length_limit_is_read_up_to_it() -> None:
    subject = "word " * (MAX_HEADER_CHARS // 5 + 100)
    reply = timed(f"From: a@x.io\r\nSubject: {subject}\r\n\r\nhi\r\n".encode())
    assert reply.subject.startswith("word word")
    assert len(reply.subject) <= MAX_HEADER_CHARS
    assert any(w.startswith("Subject: longer than 16,384") for w in reply.warnings)


def test_headers_within_the_limits_are_read_whole_without_warnings() -> None:
    params = "".join(f"; p{i}=v" for i in range(MAX_PARAMETERS - 1))
    to = ", ".join(f"u{i}@x.io" for i in range(200))
    ctype = f"text/plain; charset=utf-8{params}"
    raw = f"From: a@x.io\r\nTo: {to}\r\nContent-Type: {ctype}\r\n\r\nhé\r\n"
    reply = timed(raw.encode())
    assert len(reply.to) == 200
    assert reply.text.strip() == "hé"
    assert reply.warnings == ()


def test_the_text_is_found_among_many_parts_up_to_the_part_limit() -> None:
    def mixed(count: int, text_at: int) -> bytes:
        parts = [
            "--b\r\nContent-Type: text/plain\r\n\r\nthe text\r\n"
            if i == text_at
            else "--b\r\nContent-Type: image/png\r\n\r\nx\r\n"
            for i in range(count)
        ]
        head = "From: a@x.io\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        return (head + "".join(parts) + "--b--\r\n").encode()

    assert timed(mixed(50_000, 10)).text.strip() == "the text"
    late = timed(mixed(50_000, MAX_PARTS + 10))
    assert late.text == ""
    assert any(f"more than {MAX_PARTS:,} MIME parts" in w for w in late.warnings)


def test_deep_nesting_is_read_up_to_the_multipart_limit() -> None:
    depth = MAX_MULTIPARTS * 20
    head = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(depth)
    )
    body = "line\r\n" * 50_000
    raw = (
        "From: a@x.io\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
        f"{head}--b{depth}\r\nContent-Type: text/plain\r\n\r\n{body}"
    ).encode()
    reply = timed(raw)
    assert any(f"more than {MAX_MULTIPARTS} multipart containers" in w for w in reply.warnings)


@pytest.mark.parametrize("construct", ["<!--", "<a ", "</", "<!x", "<?"])
def test_html_with_many_unclosed_constructs_is_read_in_linear_time(construct: str) -> None:
    started = time.monotonic()
    html_to_text("<p>kept</p>" + construct * 50_000)
    assert time.monotonic() - started < BOUND_SECONDS
    raw = f"From: a@x.io\r\nContent-Type: text/html\r\n\r\n<p>kept</p>{construct * 50_000}"
    assert timed(raw.encode()).text.startswith("kept")


def test_raw_utf8_in_a_quoted_display_name_is_read_as_utf8_not_left_as_surrogates() -> None:
    raw = 'From: Jörg <j@x.io>\r\nTo: "Zoë" <z@x.io>\r\nSubject: Grüße\r\n\r\nhi\r\n'.encode()
    reply = timed(raw)
    assert reply.to == ("Zoë <z@x.io>",)
    assert reply.sender == "Jörg <j@x.io>"
    for text in (*reply.to, reply.sender, reply.subject, *reply.warnings):
        text.encode("utf-8")
