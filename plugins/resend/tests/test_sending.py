"""What the sender sends to Resend's ``POST /emails``, and what it returns.

Follows resend.com/docs api-reference/emails/send-email, the OpenAPI file's ``SendEmailRequest``
(github.com/resend/resend-openapi ``resend.yaml``) and dashboard/emails/idempotency-keys.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from aicmo_gateway_resend.plugin import resend_sender

from aicmo_gateway import Unavailable
from aicmo_gateway.ports import Attachment, EmailMessage


def message(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": "Ada Lovelace <ada@example.com>",
        "sender": "Sales <sales@example.com>",
        "subject": "Offer",
        "text": "Hello Ada.",
    }
    fields.update(changes)
    return EmailMessage(**fields)


async def test_a_send_posts_the_documented_body_with_the_bearer_key_and_idempotency_key(
    resend, settings
):
    sender = resend_sender(**settings, tags={"campaign": "q4"})
    receipt = await sender.send(
        message(
            cc="bob@example.com",
            bcc=["eve@example.com"],
            reply_to="replies@example.com",
            html="<p>Hello <b>Ada</b></p>",
            headers={"List-Unsubscribe": "<mailto:unsub@example.com>"},
            message_id="<m1@example.com>",
            in_reply_to="<first@example.com>",
            references=["<root@example.com>", "<first@example.com>"],
            attachments=[Attachment(filename="offer.pdf", content=b"%PDF-1.4")],
        ),
        idempotency_key="campaign-7/lead-42",
    )
    await sender.aclose()
    ((method, path, headers, body),) = resend.requests
    assert (method, path) == ("POST", "/emails")
    assert headers["Authorization"] == f"Bearer {resend.full_key}"
    assert headers["Idempotency-Key"] == "campaign-7/lead-42"
    assert headers["Content-Type"] == "application/json"
    assert body == {
        "from": "Sales <sales@example.com>",
        "to": ["Ada Lovelace <ada@example.com>"],
        "cc": ["bob@example.com"],
        "bcc": ["eve@example.com"],
        "reply_to": ["replies@example.com"],
        "subject": "Offer",
        "text": "Hello Ada.",
        "html": "<p>Hello <b>Ada</b></p>",
        "headers": {
            "List-Unsubscribe": "<mailto:unsub@example.com>",
            "Message-ID": "<m1@example.com>",
            "In-Reply-To": "<first@example.com>",
            "References": "<root@example.com> <first@example.com>",
        },
        "attachments": [
            {
                "filename": "offer.pdf",
                "content": base64.b64encode(b"%PDF-1.4").decode(),
                "content_type": "application/pdf",
            }
        ],
        "tags": [{"name": "campaign", "value": "q4"}],
    }
    assert receipt.provider_message_id == resend.emails[0][0]
    assert receipt.message_id == "<m1@example.com>"
    assert receipt.accepted == ("ada@example.com", "bob@example.com", "eve@example.com")
    assert receipt.performed is True


async def test_without_a_key_the_message_id_is_the_idempotency_key(resend, settings):
    sender = resend_sender(**settings)
    await sender.send(message(message_id="<m2@example.com>"))
    await sender.send(message(message_id="<m2@example.com>"))  # the same message again
    await sender.aclose()
    assert [r[2]["Idempotency-Key"] for r in resend.requests] == ["<m2@example.com>"] * 2
    assert len(resend.emails) == 1


async def test_a_key_longer_than_resend_accepts_is_sent_as_its_digest(resend, settings):
    key = "k" * 300
    sender = resend_sender(**settings)
    receipt = await sender.send(message(), idempotency_key=key)
    await sender.aclose()
    sent = resend.requests[0][2]["Idempotency-Key"]
    assert sent == "sha256-" + hashlib.sha256(key.encode()).hexdigest()
    # the Message-ID is derived from the key, on the sender's domain
    assert receipt.message_id is not None and receipt.message_id.endswith("@example.com>")
    assert resend.emails[0][1]["headers"]["Message-ID"] == receipt.message_id


async def test_the_default_sender_is_used_for_messages_without_one(resend, settings):
    sender = resend_sender(**settings, default_sender="Team <team@example.com>")
    await sender.send(message(sender=None))
    await sender.aclose()
    assert resend.emails[0][1]["from"] == "Team <team@example.com>"


async def test_a_message_without_any_sender_is_not_sent_here(resend, settings):
    sender = resend_sender(**settings)
    with pytest.raises(Unavailable, match="default_sender"):
        await sender.send(message(sender=None))
    assert resend.requests == []


async def test_a_message_with_only_bcc_recipients_is_left_to_another_provider(resend, settings):
    sender = resend_sender(**settings)
    with pytest.raises(Unavailable, match="'to' address"):
        await sender.send(message(to=(), bcc="eve@example.com"))
    with pytest.raises(Unavailable, match="at most 50"):
        await sender.send(message(to=[f"lead{n}@example.com" for n in range(51)]))
    assert resend.requests == []


async def test_a_spent_rate_limit_window_makes_the_next_send_wait_for_the_reset(resend, settings):
    import asyncio

    resend.remaining = 0  # every answer says the window is spent, reset in 1 second
    sender = resend_sender(**settings)
    loop = asyncio.get_running_loop()
    await sender.send(message())
    started = loop.time()
    await sender.send(message())
    waited = loop.time() - started
    await sender.aclose()
    assert waited >= 0.9
    assert len(resend.emails) == 2
