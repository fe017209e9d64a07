"""The ``email_sending`` conformance suite."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from aicmo_gateway.ports import Attachment, EmailMessage, SendReceipt
from aicmo_gateway.testing.conformance._base import (
    OptionalFailureChecks,
    PortConformance,
    call,
)

__all__ = ["EmailSenderConformance"]


def _parse(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


class EmailSenderConformance(OptionalFailureChecks, PortConformance):
    """Every ``email_sending`` provider.

    Fixtures to provide, besides those of :class:`PortConformance` (``service``, ``secrets``;
    until they are given, the failure and secret checks are skipped):

    ``provider``
        a constructed sender, ready to send.
    ``delivered``
        a callable returning the raw bytes of every message the backing
        service received since the test started, oldest first.
    """

    port: ClassVar[str] = "email_sending"
    sender = "Sales Team <sales@example.com>"

    def sample(self, operation: str) -> Any:
        return self.message()

    @pytest.fixture
    def delivered(self) -> Callable[[], list[bytes]]:
        raise NotImplementedError("provide a `delivered` fixture")

    def message(self, **changes: Any) -> EmailMessage:
        fields: dict[str, Any] = {
            "to": "Ada Lovelace <ada@example.com>",
            "sender": self.sender,
            "subject": "Conformance",
            "text": "Hello Ada,\nthis is a test.\n",
            "message_id": "<conformance-1@example.com>",
        }
        fields.update(changes)
        return EmailMessage(**fields)

    def test_a_sent_message_is_received_once_with_its_message_id(
        self, provider: Any, delivered: Callable[[], list[bytes]]
    ) -> None:
        receipt = call(provider.send, self.message())
        assert isinstance(receipt, SendReceipt)
        assert receipt.performed is True
        assert receipt.message_id == "<conformance-1@example.com>"
        received = delivered()
        assert len(received) == 1
        parsed = _parse(received[0])
        assert parsed["Message-ID"] == "<conformance-1@example.com>"
        assert parsed["Subject"] == "Conformance"
        assert "ada@example.com" in parsed["To"]
        assert "Bcc" not in parsed

    def test_non_ascii_headers_and_body_survive(
        self, provider: Any, delivered: Callable[[], list[bytes]]
    ) -> None:
        call(
            provider.send, self.message(subject="Grüße, Søren ✓", text="Hej Søren \u2013 ça va?\n")
        )
        parsed = _parse(delivered()[-1])
        assert parsed["Subject"] == "Grüße, Søren ✓"
        body = parsed.get_body(preferencelist=("plain",))
        assert body is not None
        assert "Hej Søren \u2013 ça va?" in body.get_content()

    def test_html_alternative_and_attachment_are_kept(
        self, provider: Any, delivered: Callable[[], list[bytes]]
    ) -> None:
        call(
            provider.send,
            self.message(
                html="<p>Hello <b>Ada</b></p>",
                attachments=[Attachment(filename="offer.pdf", content=b"%PDF-1.4 test")],
            ),
        )
        parsed = _parse(delivered()[-1])
        html = parsed.get_body(preferencelist=("html",))
        assert html is not None
        assert "<b>Ada</b>" in html.get_content()
        files = [(p.get_filename(), p.get_content()) for p in parsed.iter_attachments()]
        assert files == [("offer.pdf", b"%PDF-1.4 test")]

    def test_threading_headers_are_sent(
        self, provider: Any, delivered: Callable[[], list[bytes]]
    ) -> None:
        call(
            provider.send,
            self.message(
                in_reply_to="<first@example.com>",
                references=["<root@example.com>", "<first@example.com>"],
            ),
        )
        parsed = _parse(delivered()[-1])
        assert parsed["In-Reply-To"] == "<first@example.com>"
        assert parsed["References"].split() == ["<root@example.com>", "<first@example.com>"]
