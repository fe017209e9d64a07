"""Bounces, complaints and auto-replies told from human replies, over a corpus of real formats.

Each file in tests/fixtures/bounces is one message as an MTA, a feedback loop or a person
sends it (RFC 3464, 5965 and 6533 examples; Postfix, Exim, Exchange, Gmail, qmail, Yahoo,
Sendmail, Amazon SES, OpenSMTPD). ``EXPECTED`` says what each must be read as.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aicmo_gateway.mime import parse_reply
from aicmo_gateway.ports import Bounce, Complaint, Reply, ReplyKind, suppression_hints

CORPUS = Path(__file__).parent / "fixtures" / "bounces"

H, S = True, False
#: file -> (kind, [(recipient, status, hard)] for bounces / [(recipient, type)] for complaints)
EXPECTED: dict[str, tuple[str, list[tuple[object, ...]]]] = {
    "rfc3464-simple-failure": ("bounce", [("louisl@larry.slip.umd.example", "4.0.0", S)]),
    "rfc3464-multiple-recipients": (
        "bounce",
        [
            ("arathib@vnet.ibm.example", "5.0.0", H),
            ("johnh@hpnjld.njd.hp.example", "4.0.0", S),
            ("wsnell@sdcc13.ucsd.example", "5.0.0", H),
        ],
    ),
    "rfc3464-delayed": ("bounce", [("carol@slow.example.org", "4.4.1", S)]),
    "rfc3464-original-recipient-alias": ("bounce", [("info@alias.example.com", "5.1.1", H)]),
    "rfc3464-no-status-code": ("bounce", [("sam@gone.example.biz", None, H)]),
    "rfc6533-global-delivery-status": ("bounce", [("taro@example.jp", "5.1.1", H)]),
    "postfix-user-unknown": ("bounce", [("bob@example.org", "5.1.1", H)]),
    "postfix-mailbox-full": ("bounce", [("dana@example.org", "5.2.2", S)]),
    "postfix-greylisted-delay": ("bounce", [("erin@greylist.example", "4.7.1", S)]),
    "postfix-relay-denied": ("bounce", [("frank@elsewhere.example", "5.7.1", H)]),
    "exim-permanent-failure": ("bounce", [("gina@unknown.example.com", "5.1.1", H)]),
    "exim-quota-exceeded": ("bounce", [("hank@cpanel.exim.example", "5.2.2", S)]),
    "exim-dsn-report": ("bounce", [("ivan@exim-dsn.example", "5.0.0", H)]),
    "exchange-recipient-not-found": ("bounce", [("jill@contoso.example", "5.1.10", H)]),
    "exchange-online-access-denied": ("bounce", [("kim@fabrikam.example", "5.4.1", H)]),
    "exchange-mailbox-full": ("bounce", [("lee@contoso.example", "5.2.2", S)]),
    "exchange-2003-legacy-text": ("bounce", [("mike@legacy.example.com", "5.1.1", H)]),
    "gmail-address-not-found": ("bounce", [("nina.nobody@gmail.example", "5.1.1", H)]),
    "gmail-over-quota": ("bounce", [("oscar@gmail.example", "5.2.2", S)]),
    "gmail-delayed": ("bounce", [("pat@slowhost.example", "4.4.1", S)]),
    "gmail-blocked-as-spam": ("bounce", [("quinn@gmail.example", "5.7.1", H)]),
    "qmail-no-mailbox": ("bounce", [("ray@qmail.example.net", "5.1.1", H)]),
    "qmail-remote-said": ("bounce", [("sue@remote.example.org", "5.1.1", H)]),
    "yahoo-legacy-text": ("bounce", [("tom@yahoo.example", None, H)]),
    "yahoo-dsn-report": ("bounce", [("uma@yahoo.example", "5.0.0", H)]),
    "sendmail-user-unknown": ("bounce", [("victor@sendmail.example.edu", "5.1.1", H)]),
    "sendmail-warning-delayed": ("bounce", [("wendy@down.example.com", "4.4.1", S)]),
    "amazonses-bounce": ("bounce", [("xena@closed.example.com", "5.1.1", H)]),
    "opensmtpd-action-error": ("bounce", [("yuri@nope.example.org", "5.1.1", H)]),
    "rfc5965-abuse-report": ("complaint", [("user@example.com", "abuse")]),
    "yahoo-arf-complaint": ("complaint", [("zoe@yahoo.example", "abuse")]),
    "microsoft-jmrp-complaint": ("complaint", [("amir@outlook.example", "abuse")]),
    "arf-fraud-report": ("complaint", [("bea@isp.example", "fraud")]),
    "arf-redacted-recipient": ("complaint", [("redacted@mailbox.example", "abuse")]),
    "auto-rfc3834-vacation": ("auto_reply", []),
    "auto-outlook-ooo": ("auto_reply", []),
    "auto-x-autoreply": ("auto_reply", []),
    "auto-precedence-auto-reply": ("auto_reply", []),
    "auto-german-abwesenheit": ("auto_reply", []),
    "human-plain-reply": ("human", []),
    "human-undeliverable-subject": ("human", []),
    "human-quotes-a-bounce": ("human", []),
    "human-reply-to-dsn": ("human", []),
    "human-forwards-a-bounce": ("human", []),
    "human-auto-submitted-no": ("human", []),
    "human-postmaster-word-in-body": ("human", []),
}


def read(name: str) -> Reply:
    return parse_reply((CORPUS / f"{name}.eml").read_bytes(), source_id=name)


def test_the_corpus_is_complete() -> None:
    on_disk = {p.stem for p in CORPUS.glob("*.eml")}
    assert on_disk == set(EXPECTED)
    reports = [n for n, (kind, _) in EXPECTED.items() if kind in ("bounce", "complaint")]
    assert len(reports) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_message_is_read_as_its_kind(name: str) -> None:
    kind, expected = EXPECTED[name]
    reply = read(name)
    assert reply.kind == kind
    assert reply.kind is ReplyKind(kind)
    if kind == "bounce":
        assert [(b.recipient, b.status, b.hard) for b in reply.bounces] == expected
        assert all(b.action in ("failed", "delayed", "error") for b in reply.bounces)
    else:
        assert reply.bounces == ()
    if kind == "complaint":
        assert [(c.recipient, c.feedback_type) for c in reply.complaints] == expected
        assert reply.complaints[0].original_message_id == (
            "<c1.20261116091244.4711@news.example.com>"
        )
    else:
        assert reply.complaints == ()
    assert reply.warnings == ()


def test_a_bounce_keeps_the_servers_answer_and_the_ordinary_fields() -> None:
    reply = read("postfix-user-unknown")
    assert reply.bounces[0].diagnostic == (
        "550 5.1.1 <bob@example.org>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert reply.subject == "Undelivered Mail Returned to Sender"
    assert reply.sender == "MAILER-DAEMON@smtp.example.net"
    assert "could not" in reply.text


def test_a_text_bounce_takes_the_code_from_the_line_after_the_address() -> None:
    [bounce] = read("yahoo-legacy-text").bounces
    assert bounce.diagnostic is not None and bounce.diagnostic.startswith(
        "Remote host said: 554 delivery error"
    )


def test_a_mailer_message_without_recipients_is_a_bounce_with_a_warning() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.org\r\nTo: a@example.com\r\n"
        b"Subject: Postmaster notify\r\n\r\nSomething went wrong.\r\n"
    )
    reply = parse_reply(raw)
    assert reply.kind == "bounce" and reply.bounces == ()
    assert any("no failed recipient" in w for w in reply.warnings)


def test_a_null_return_path_alone_does_not_make_a_bounce() -> None:
    raw = (
        b"Return-Path: <>\r\nFrom: Li <li@example.org>\r\nTo: a@example.com\r\n"
        b"Subject: Re: hello\r\n\r\nThanks, see you then.\r\n"
    )
    assert parse_reply(raw).kind == "human"


@pytest.mark.parametrize(
    "subject",
    ["Out of office party on Friday", "Re: automatic replies are annoying", "Absence policy"],
)
def test_a_subject_about_absence_without_the_prefix_is_human(subject: str) -> None:
    raw = f"From: a@example.org\r\nSubject: {subject}\r\n\r\nHi\r\n".encode()
    assert parse_reply(raw).kind == "human"


@pytest.mark.parametrize(
    "header",
    ["Auto-Submitted: auto-generated", "X-Autorespond: yes", "Precedence: auto_reply"],
)
def test_rfc3834_and_common_headers_make_an_auto_reply(header: str) -> None:
    raw = f"From: a@example.org\r\n{header}\r\nSubject: Re: hi\r\n\r\nAway\r\n".encode()
    assert parse_reply(raw).kind == "auto_reply"


def test_records_default_to_a_human_reply() -> None:
    reply = Reply(message_id=None, sender=None, subject="", text="")
    assert (reply.kind, reply.bounces, reply.complaints) == ("human", (), ())
    assert Reply(message_id=None, sender=None, subject="", text="", kind="bounce").kind is (
        ReplyKind.BOUNCE
    )
    with pytest.raises(ValueError):
        Reply(message_id=None, sender=None, subject="", text="", kind="spam")


def test_suppression_hints_hard_and_complaints_now_soft_to_count() -> None:
    hints = suppression_hints(read("rfc3464-multiple-recipients"))
    assert [(h.address, h.reason, h.immediate) for h in hints] == [
        ("arathib@vnet.ibm.example", "hard_bounce", True),
        ("johnh@hpnjld.njd.hp.example", "soft_bounce", False),
        ("wsnell@sdcc13.ucsd.example", "hard_bounce", True),
    ]
    assert hints[0].detail.startswith("5.0.0 550 'arathib@vnet.IBM.example'")
    [complaint] = suppression_hints(read("yahoo-arf-complaint"))
    assert (complaint.address, complaint.reason) == ("zoe@yahoo.example", "complaint")
    assert complaint.detail == "abuse Yahoo!-Mail-Feedback/2.0"
    assert suppression_hints(read("human-quotes-a-bounce")) == ()
    assert suppression_hints(read("auto-outlook-ooo")) == ()


def test_suppression_hints_give_an_address_once_hard_before_soft() -> None:
    reply = Reply(
        message_id=None,
        sender=None,
        subject="",
        text="",
        kind="bounce",
        bounces=[
            Bounce("x@example.com", "4.2.2", False),
            Bounce("X@example.com", "5.1.1", True),
            Bounce("x@example.com", "4.4.1", False),
        ],
        complaints=[Complaint(None)],
    )
    assert [(h.address, h.reason) for h in suppression_hints(reply)] == [
        ("X@example.com", "hard_bounce")
    ]
