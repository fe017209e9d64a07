"""The reply parser, fuzzed: it never raises, and each input costs time bounded by its size.

``parse_reply`` reads mail from strangers. Arbitrary bytes, and messages built to be
expensive (thousands of headers, parameters, RFC 2231 continuations and addresses, encoded
words in unknown charsets, nested and numerous MIME parts, bad transfer encodings, HTML soup)
must all come back as a ``Reply`` with warnings, each within
``BOUND_BASE + BOUND_PER_BYTE * len(raw)`` seconds of CPU (not wall time, which a busy machine
stretches): 1 s plus 10 microseconds a byte. Normal
mail parses at well under 1 microsecond a byte; the poison shapes of issue #7 took 100-220
microseconds a byte (34-51 s for 223 KiB) before the limits. Hypothesis runs derandomized and
without a database, so CI sees the same inputs every time.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aicmo_gateway.mime import html_to_text, parse_reply
from aicmo_gateway.ports import Reply

BOUND_BASE = 1.0
BOUND_PER_BYTE = 10e-6


def fuzz(examples: int) -> settings:
    return settings(
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=examples,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def parses(raw: bytes) -> Reply:
    started = time.process_time()
    reply = parse_reply(raw, source_id="fuzz")
    elapsed = time.process_time() - started
    bound = BOUND_BASE + BOUND_PER_BYTE * len(raw)
    assert elapsed < bound, f"{len(raw):,} bytes took {elapsed:.2f}s (bound {bound:.2f}s)"
    assert isinstance(reply, Reply)
    assert isinstance(reply.text, str) and isinstance(reply.subject, str)
    assert all(isinstance(w, str) for w in reply.warnings)
    strings = [reply.subject, reply.text, reply.html or "", reply.sender or "", *reply.to]
    strings += [*reply.cc, *reply.references, *reply.warnings, reply.message_id or ""]
    for text in strings:
        text.encode("utf-8")  # no lone surrogates: every field can be stored and sent on
    return reply


CHARSETS = [
    "utf-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-16", "utf-7", "koi8-r",
    "x-bogus-42", "", "punycode", "idna", "rot13", "zlib", "base64", "utf-8\x00", "unknown-8bit",
]  # fmt: skip
NAMES = [
    "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
    "References", "Content-Type", "Content-Disposition", "Content-Transfer-Encoding",
    "MIME-Version", "X-Mailer", "Received",
]  # fmt: skip
small_text = st.text(max_size=40)


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from("qQbBx"))
    payload = draw(st.text(alphabet="=?_ABCabc019+/%\r\n\x00\xe9", max_size=30))
    return f"=?{charset}?{encoding}?{payload}?="


@st.composite
def header_value(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["text", "words", "addresses", "params", "2231", "long"]))
    n = draw(st.integers(min_value=0, max_value=16_000))
    if kind == "text":
        return draw(small_text)
    if kind == "words":
        return " ".join(draw(st.lists(encoded_word(), max_size=20)))
    if kind == "addresses":
        sep = draw(st.sampled_from([", ", ",\r\n ", ",", ";"]))
        name = draw(st.sampled_from(["", '"Doe, J" ', "=?utf-8?q?J=C3=B6?= ", "(c) "]))
        return sep.join(f"{name}<u{i}@x{i % 7}.io>" for i in range(n))
    if kind == "params":
        return "text/plain" + "".join(f";\r\n p{i}=v{i}" for i in range(n))
    if kind == "2231":
        star = draw(st.sampled_from(["*", ""]))
        return "text/plain; charset=utf-8" + "".join(f"; name*{i}{star}=%E2x" for i in range(n))
    return ("token " * n).strip()


@st.composite
def header_block(draw: st.DrawFn) -> str:
    fields = draw(st.lists(st.tuples(st.sampled_from(NAMES), header_value()), max_size=12))
    copies = draw(st.integers(min_value=1, max_value=3_000))  # many header fields
    filler = "X-Filler: y\r\n" * (copies if draw(st.booleans()) else 0)
    return "".join(f"{name}: {value}\r\n" for name, value in fields) + filler


@st.composite
def leaf(draw: st.DrawFn) -> str:
    ctype = draw(st.sampled_from(["text/plain", "text/html", "image/png", "message/rfc822"]))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "??"]))
    disposition = draw(st.sampled_from(["", "Content-Disposition: attachment\r\n"]))
    body = draw(
        st.text(alphabet="<>!-/?ab =\"'&;#\r\n\x00é", max_size=300)
        | st.sampled_from(["<!--" * 5_000, "<a " * 5_000, "=\r\n" * 2_000, "QUJD" * 2_000])
    )
    return (
        f"Content-Type: {ctype}; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n"
        f"{disposition}\r\n{body}\r\n"
    )


def multipart(children: list[str], boundary: str, subtype: str, closed: bool) -> str:
    parts = "".join(f"--{boundary}\r\n{child}" for child in children)
    end = f"--{boundary}--\r\n" if closed else ""
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n{parts}{end}'


@st.composite
def mime_tree(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 40 or draw(st.integers(0, 3)) == 0:
        return draw(leaf())
    boundary = draw(st.sampled_from(["b", "=_b", "b b", "", "--", "b" * 200])) + str(depth)
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "digest", "x"]))
    width = draw(st.integers(min_value=0, max_value=3))
    children = [draw(mime_tree(depth + 1)) for _ in range(width)]
    if draw(st.integers(0, 9)) == 0:  # many siblings
        children += ["Content-Type: text/plain\r\n\r\nx\r\n"] * draw(st.integers(0, 20_000))
    return multipart(children, boundary, subtype, draw(st.booleans()))


@fuzz(1500)
@given(st.binary(max_size=20_000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    parses(raw)


@fuzz(500)
@given(header_block(), st.binary(max_size=2_000))
def test_arbitrary_bytes_after_real_headers_never_raise(headers: str, body: bytes) -> None:
    parses(headers.encode("utf-8", "surrogateescape") + b"\r\n" + body)


@fuzz(500)
@given(header_block(), mime_tree())
def test_messages_built_to_be_expensive_parse_within_the_bound(headers: str, tree: str) -> None:
    parses((headers + tree).encode("utf-8", "surrogateescape"))


@fuzz(300)
@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=100_000))
def test_deep_nesting_with_long_bodies_parses_within_the_bound(depth: int, lines: int) -> None:
    head = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(depth)
    )
    body = "line\r\n" * lines
    raw = (
        "From: a@x.io\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
        f"{head}--b{depth}\r\nContent-Type: text/plain\r\n\r\n{body}"
    )
    parses(raw.encode())


@fuzz(1500)
@given(st.text(alphabet="<>!-/?abscriptyle =\"'&;#\n\x00é", max_size=5_000))
def test_html_soup_is_read_in_linear_time(html: str) -> None:
    started = time.process_time()
    text = html_to_text(html * 20)
    assert isinstance(text, str)
    assert time.process_time() - started < BOUND_BASE + BOUND_PER_BYTE * len(html) * 20
