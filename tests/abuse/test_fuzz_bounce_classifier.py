"""The bounce classifier, fuzzed: hostile reports never raise and cost time bounded by size.

Every received message goes through :func:`~aicmo_gateway.mime.classify.classify` inside
``parse_reply``, so a message shaped like a bounce (from ``MAILER-DAEMON``, a
``multipart/report``, an ``X-Failed-Recipients`` header) reaches the report readers and
flufl.bounce's detectors. These messages are built to make them work: tens of thousands of
recipient blocks, long status and diagnostic fields, huge lines for the detectors' regular
expressions, thousands of addresses, ARF reports with giant originals. Each must come back
as a ``Reply`` of a known kind within the parser's bound (``BOUND_BASE + BOUND_PER_BYTE``
a byte), with at most ``MAX_ADDRESSES`` bounces. Derandomized, no database.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aicmo_gateway.mime.limits import MAX_ADDRESSES
from aicmo_gateway.ports import ReplyKind

from .test_fuzz_reply_parser import fuzz, parses

FROMS = [
    "MAILER-DAEMON@mx.example.org",
    "Mail Delivery Subsystem <mailer-daemon@googlemail.example>",
    "postmaster@contoso.example",
    "Person <person@example.org>",
]
REPORTS = ["delivery-status", "feedback-report", "global-delivery-status", "x-other", ""]
FIELD_TEXT = st.text(alphabet='5.4.1 ;:<>@xy"()rfc822\r\n\t=?', max_size=60)


@st.composite
def status_block(draw: st.DrawFn) -> str:
    action = draw(st.sampled_from(["failed", "delayed", "delivered", "error", "", "x" * 500]))
    status = draw(st.sampled_from(["5.1.1", "4.4.7", "5.2.2", "9.9.9", "5." * 3_000, ""]))
    who = draw(st.sampled_from(["rfc822; u@x.io", "rfc822;<u@x.io>", "u@x.io", ";", "@" * 2_000]))
    diag = draw(FIELD_TEXT | st.sampled_from(["smtp; 550 " + "5.1.1 " * 5_000, "smtp; 4" * 3_000]))
    return (
        f"Final-Recipient: {who}\r\nOriginal-Recipient: {who}\r\nAction: {action}\r\n"
        f"Status: {status}\r\nDiagnostic-Code: {diag}\r\n"
    )


@st.composite
def report(draw: st.DrawFn) -> bytes:
    sender = draw(st.sampled_from(FROMS))
    report_type = draw(st.sampled_from(REPORTS))
    blocks = draw(st.lists(status_block(), max_size=6))
    size = sum(len(b) for b in blocks) or 1
    copies = min(draw(st.sampled_from([1, 10, 5_000, 30_000])), 1_000_000 // size)  # many blocks
    status = "Reporting-MTA: dns; x\r\n\r\n" + "\r\n".join(blocks * copies)
    text = draw(
        FIELD_TEXT
        | st.sampled_from(
            [
                "<u@x.io>:\r\n550 5.1.1 " + "a" * 200_000,
                "The following address(es) failed:\r\n" + "  u@x.io\r\n" * 20_000,
                "Sorry, no mailbox here by that name. " * 10_000,
                "<" * 100_000,
                "did not reach the following recipient(s):\r\n" + "x@y.z on " * 20_000,
            ]
        )
    )
    failed = ", ".join(f"f{i}@x.io" for i in range(draw(st.sampled_from([0, 3, 5_000]))))
    feedback = "Feedback-Type: abuse\r\nOriginal-Rcpt-To: " + draw(FIELD_TEXT) + "\r\n"
    original = "To: " + ", ".join(f"t{i}@x.io" for i in range(draw(st.sampled_from([1, 3_000]))))
    raw = (
        f"From: {sender}\r\nReturn-Path: <>\r\nX-Failed-Recipients: {failed}\r\n"
        f"Subject: Undelivered\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n"
        f"--b\r\nContent-Type: message/delivery-status\r\n\r\n{status}\r\n"
        f"--b\r\nContent-Type: message/global-delivery-status\r\n\r\n{status}\r\n"
        f"--b\r\nContent-Type: message/feedback-report\r\n\r\n{feedback}\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{original}\r\n\r\n--b--\r\n"
    )
    return raw.encode("utf-8", "surrogateescape")


@fuzz(150)
@given(report())
def test_hostile_reports_classify_within_the_bound(raw: bytes) -> None:
    reply = parses(raw)
    assert reply.kind in set(ReplyKind)
    assert len(reply.bounces) <= MAX_ADDRESSES
    for bounce in reply.bounces:
        assert "@" in bounce.recipient
        assert bounce.status is None or bounce.status[0] in "45"


@fuzz(500)
@given(st.sampled_from(FROMS), st.binary(max_size=20_000))
def test_arbitrary_bodies_from_a_mailer_never_raise(sender: str, body: bytes) -> None:
    parses(f"From: {sender}\r\nReturn-Path: <>\r\n\r\n".encode() + body)
