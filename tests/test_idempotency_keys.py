"""Derived idempotency keys are persisted (outbox rows, providers' de-duplication): the key of
a payload must never change. These values were computed by the first implementation."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from aicmo_gateway.engine.ledger import derive_idempotency_key
from aicmo_gateway.ports import Attachment, EmailMessage, Lead, WebhookEvent


@attrs.frozen
class Nothing:
    pass


@attrs.frozen
class One:
    x: object


CASES = {
    "plain": (
        EmailMessage(to="ada@example.com", subject="Hi", text="Hello"),
        "auto-9462f554a9ba70908ebda48b132bb5b0",
    ),
    "full": (
        EmailMessage(
            to=("Ada <ada@example.com>", "bo@example.com"),
            subject="Ünïcode 'quotes' \"and\" \\",
            text="t",
            html="<p>h</p>",
            sender="S <s@example.com>",
            cc="c@example.com",
            headers=(("X-Campaign", "spring"),),
            message_id="<m1@example.com>",
            attachments=(Attachment(filename="a.bin", content=b"\x00\x01"),),
            category="transactional",
        ),
        "auto-505ba5e8e532cd5e9d9588c7fd16600d",
    ),
    "lead": (Lead(email="ada@example.com"), "auto-99a28b1a6c97a6804be8f7795ff626af"),
    "webhook": (
        WebhookEvent(
            type="lead.created",
            occurred_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
            data={"b": [1, 2.5, None], "a": {"when": "2026-11-30"}},
        ),
        "auto-3206a5150aaefed8d68bcf8ce744f137",
    ),
    "record without fields": (Nothing(), "auto-3e4509438dbd50d3482d1c954511fffa"),
    "records nested in a tuple": (One(("a", One(b"z"))), "auto-cbf8f6905609f1e6f427322e78fea956"),
    "list of mixed values": (
        ["x", (1, True, None), {"k": "v"}, b"raw", datetime(2026, 1, 1, tzinfo=UTC)],
        "auto-f47df0315a2d1c9ce8d12bf080f4a14a",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_derived_key_never_changes(case: str) -> None:
    payload, key = CASES[case]
    assert derive_idempotency_key("email_sending", "send", payload) == key
    # the compiled form of a record class is reused: the same key the second time
    assert derive_idempotency_key("email_sending", "send", payload) == key


def test_every_field_counts() -> None:
    one = EmailMessage(to="ada@example.com", subject="Hi", text="Hello")
    for changed in (
        attrs.evolve(one, subject="Hi!"),
        attrs.evolve(one, cc=("c@example.com",)),
        attrs.evolve(one, category="transactional"),
        attrs.evolve(one, headers=(("X-A", "1"),)),
    ):
        assert derive_idempotency_key("c", "o", changed) != derive_idempotency_key("c", "o", one)
