"""Derived idempotency keys are persisted (outbox rows, providers' de-duplication): the key of
a payload must never change. These values were computed by the first implementation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import attrs
import pytest

from aicmo_gateway.engine.keys import canonical, derive_idempotency_key
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


class Name(str):
    """A ``str`` subclass: not a plain scalar to the compiled check."""


@attrs.frozen
class Mixed:
    text: object
    number: object
    items: object
    nested: object
    mapping: object


def _by_the_rule(capability: str, operation: str, payload: object) -> str:
    """The key as its definition states it: the text is the ``repr`` of the whole tuple."""
    text = repr((capability, operation, canonical(payload)))
    return "auto-" + hashlib.sha256(text.encode()).hexdigest()[:32]


TEXT_CORPUS = [
    *(payload for payload, _ in CASES.values()),
    Nothing(),
    One(None),
    One(()),
    One(("only",)),
    One(["a", "list"]),
    One([One(1), One([])]),
    One(Name("sub'class")),
    One(1.5),
    One(float("nan")),
    One(True),
    One(b"\xff"),
    Mixed("\u00e9\n\t'\"\\", -3, ("x", ("y", None)), One(One(())), {"b": 1, 2: [3]}),
    Mixed("", 0, [], None, {}),
    EmailMessage(
        to="élodie@example.com", subject="Ça va? \u2603", text="x" * 5000, html="<b>'\"</b>"
    ),
]


@pytest.mark.parametrize("payload", TEXT_CORPUS, ids=lambda p: type(p).__name__)
def test_the_compiled_text_is_the_rule_byte_for_byte(payload: object) -> None:
    # records' key text is written field by field by code compiled per class; any other
    # payload goes through the canonical form: both must give the rule's characters
    for _ in range(2):  # compiled on first use, reused after
        assert derive_idempotency_key("crm_sync", "upsert", payload) == _by_the_rule(
            "crm_sync", "upsert", payload
        )


def test_a_record_class_with_any_name_gets_the_rule_s_key() -> None:
    # the class name is written into compiled code as a literal: quotes, braces and
    # backslashes in it (a class made with type()) must neither break nor change the text
    for name in ("Quote'd", 'Dbl"q', "Br{ace}s", "Back\\slash", "Ünï", "{v0!r}"):
        cls = attrs.frozen(type(name, (), {"__annotations__": {"x": "object"}}))
        payload = cls(x=("a", None))
        assert derive_idempotency_key("c", "o", payload) == _by_the_rule("c", "o", payload)
