"""Header injection: records refuse it, the renderer never writes it, the chain blames the input.

Regression tests for the abuse findings on encoded words (``=?utf-8?q?hi=0D=0ABcc:...?=``),
NUL bytes and overlong header lines; ``tests/abuse/test_header_injection.py`` runs the
full corpus against a real SMTP server and a Maildir.
"""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any

import pytest

from aicmo_gateway import Gateway, Status
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.mime import POLICY, SMTP_POLICY, build_message, render
from aicmo_gateway.ports import Attachment, EmailMessage

BCC_IN_Q = "=?utf-8?q?hi=0D=0ABcc:=20evil@attacker.example?="
BCC_IN_B = "=?utf-8?b?aGkNCkJjYzogZXZpbEBhdHRhY2tlci5leGFtcGxl?="


def message(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": "ann@example.com",
        "subject": "Hello",
        "text": "Hi Ann",
        "sender": "sales@example.com",
    }
    fields.update(changes)
    return EmailMessage(**fields)


def forced(**fields: Any) -> EmailMessage:
    """A valid message with fields overwritten past the validators, as a buggy caller might."""
    record = message()
    for name, value in fields.items():
        object.__setattr__(record, name, value)
    return record


# -- the records refuse it ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", BCC_IN_Q),
        ("subject", BCC_IN_B),
        ("subject", "hi\x00there"),
        ("subject", "a\x1bb"),
        ("subject", "=?iso-8859-1?q?a=00b?="),
        ("subject", "A" * 1500),
        ("sender", f'"{BCC_IN_Q}" <s@example.com>'),
        ("sender", "Ann\x00 <s@example.com>"),
        ("sender", "A" * 1500 + " <s@example.com>"),
        ("to", '"=?utf-8?q?x=0D=0A?=" <ann@example.com>'),
        ("cc", "Bob\x85 <bob@example.com>"),
        ("headers", {"X-Campaign": BCC_IN_Q}),
        ("headers", {"X-Campaign": "a\x00b"}),
        ("headers", {"X-" + "a" * 100: "v"}),
        ("in_reply_to", "<a\x00b@example.com>"),
        ("text", "body\x00"),
        ("html", "<p>\x00</p>"),
        ("text", "lone \udcff surrogate"),
    ],
)
def test_an_email_message_refuses_text_that_could_inject_headers(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput, match=f"EmailMessage.{field}") as caught:
        message(**{field: value})
    assert len(str(caught.value)) < 600  # a 1,500-character value is not echoed whole


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filename", "=?utf-8?q?a=0D=0AX-Evil:_1?=.pdf"),
        ("filename", "a\x00.pdf"),
        ("content_id", "<=?utf-8?q?a=0D=0A?=@x>"),
        ("content_id", "a\x00b@x"),
        ("content_id", "a b@x"),
    ],
)
def test_an_attachment_refuses_text_that_could_inject_headers(field: str, value: str) -> None:
    fields = {"filename": "a.pdf", "content": b"x", field: value}
    with pytest.raises(InvalidInput, match=f"Attachment.{field}"):
        Attachment(**fields)  # type: ignore[arg-type]


# -- text that looks like an encoded word arrives as that text ------------------------------


def reparse(record: EmailMessage) -> Any:
    raw = render(build_message(record), policy=SMTP_POLICY)
    return email.message_from_bytes(raw, policy=policy.default)


def test_a_subject_holding_an_encoded_word_reads_back_literally() -> None:
    subject = "Price =?utf-8?q?=E2=82=AC5?= today"
    parsed = reparse(message(subject=subject))
    assert parsed["Subject"] == subject


def test_a_display_name_holding_an_encoded_word_adds_no_recipient() -> None:
    name = "=?utf-8?q?a=2C_b@evil.example?="
    parsed = reparse(message(cc=[f'"{name}" <bob@example.com>', "Cat <cat@example.com>"]))
    addresses = parsed["Cc"].addresses
    assert [(a.display_name, a.addr_spec) for a in addresses] == [
        (name, "bob@example.com"),
        ("Cat", "cat@example.com"),
    ]


def test_a_long_quoted_display_name_is_folded_without_becoming_several_addresses() -> None:
    # Python 3.11's folder drops the quotes of a quoted display name it has to fold
    name = "Doe, Jane, evil@attacker.example, " + "Doe, Jane " * 10
    parsed = reparse(message(to=f'"{name.strip()}" <ann@example.com>'))
    (address,) = parsed["To"].addresses
    assert address.addr_spec == "ann@example.com"
    assert address.display_name.split() == name.split()


def test_a_custom_address_header_that_would_fold_into_other_addresses_is_refused() -> None:
    long_name = '"Doe, Jane, evil@attacker.example, ' + "Doe, Jane " * 10 + '" <a@example.com>'
    with pytest.raises(InvalidInput, match="Resent-To header reads back as other addresses"):
        build_message(message(headers={"Resent-To": long_name}))


def test_a_file_name_and_a_header_value_holding_encoded_words_read_back_literally() -> None:
    filename = "=?utf-8?q?evil=22.exe?= report.pdf"
    parsed = reparse(
        message(
            attachments=[Attachment(filename, b"%PDF")],
            headers={"X-Campaign": "=?utf-8?b?c3ByaW5n?="},
        )
    )
    (attached,) = parsed.iter_attachments()
    assert attached.get_filename() == filename
    assert parsed["X-Campaign"] == "=?utf-8?b?c3ByaW5n?="


# -- the renderer is a second line of defence ----------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "hi\r\nBcc: evil@attacker.example"},
        {"subject": "hi\rBcc: evil@attacker.example"},
        {"subject": "hi\x00"},
        {"to": ('"=?utf-8?q?x=0D=0A?=" <ann@example.com>',)},
        {"sender": "A" * 1500 + " <s@example.com>"},
        {"headers": (("X-Campaign", "a\n\nbody"),)},
        {"text": "body\x00"},
    ],
    ids=lambda fields: next(iter(fields)),
)
def test_a_message_that_slipped_past_the_validators_is_refused_when_built(
    fields: dict[str, Any],
) -> None:
    with pytest.raises(InvalidInput):
        build_message(forced(**fields))


def test_an_encoded_line_break_that_slipped_past_the_validators_stays_literal_text() -> None:
    parsed = reparse(forced(subject=BCC_IN_Q, headers=(("X-Campaign", BCC_IN_B),)))
    assert parsed["Subject"] == BCC_IN_Q
    assert parsed["X-Campaign"] == BCC_IN_B
    assert parsed["Bcc"] is None


def test_a_missing_sender_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="no sender"):
        build_message(message(sender=None))


# -- the chain: bad input is REJECTED once and does not touch health --------------------


async def test_bad_messages_are_rejected_once_without_harming_the_providers_health(
    tmp_path: Path,
) -> None:
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["first", "second"]}},
            "providers": {
                "first": {"type": "maildir", "path": str(tmp_path / "first")},
                "second": {"type": "maildir", "path": str(tmp_path / "second")},
            },
        },
        env={},
    )
    bad = [
        forced(subject="hi\r\nBcc: evil@attacker.example"),
        forced(to=('"=?utf-8?q?x=0D=0A?=" <ann@example.com>',)),
        forced(headers=(("X-Campaign", "a\x00b"),)),
        forced(sender="A" * 1500 + " <s@example.com>"),
        forced(text="smuggled\x00body"),
    ]
    async with gateway:
        for record in bad:
            outcome = await gateway.email_sending.send(record)
            assert outcome.status is Status.REJECTED, outcome
            assert [a.provider for a in outcome.attempts] == ["first"]
            assert outcome.attempts[0].error == "InvalidInput"
        health = {row["provider"]: row for row in gateway.status()}
        assert {name: row["state"] for name, row in health.items()} == {
            "first": "closed",
            "second": "closed",
        }
        assert all(row["consecutive_failures"] == 0 for row in health.values())
        outcome = await gateway.email_sending.send(message())
    assert outcome.status is Status.OK
    assert outcome.provider == "first"
    delivered = list((tmp_path / "first" / "new").iterdir())
    assert len(delivered) == 1
    assert not (tmp_path / "second" / "new").exists() or not any(
        (tmp_path / "second" / "new").iterdir()
    )


def test_a_long_address_before_a_non_ascii_name_is_sent_as_two_addresses() -> None:
    # Python 3.11 folded this Cc with the comma inside an encoded word (=?utf-8?q?=2C?=),
    # so it read back as one address and the message was refused
    first = "a" * 40 + "@" + "x" * 30 + ".example"
    mime = build_message(message(cc=[first, "José <jose@example.com>"]))
    for rendering in (POLICY, SMTP_POLICY):
        parsed = email.message_from_bytes(render(mime, policy=rendering), policy=policy.default)
        cc = parsed["Cc"].addresses
        assert [(a.display_name, a.addr_spec) for a in cc] == [
            ("", first),
            ("José", "jose@example.com"),
        ]
