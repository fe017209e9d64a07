"""Resend's idempotency keys, against the contract fake and through the gateway.

Follows resend.com/docs dashboard/emails/idempotency-keys: the same key and the same body within
24 hours answers the first email's id and sends nothing; the same key with another body is 409
``invalid_idempotent_request``; a key whose first request is still running is 409
``concurrent_idempotent_requests``. Our chain derives the key from the payload when the caller
gives none, and retries an ambiguous send on this provider with the same key.
"""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_resend.plugin import resend_sender

from aicmo_gateway import Ambiguous, Gateway, InvalidInput, Status
from aicmo_gateway.ports import EmailMessage


def message(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": "ada@example.com",
        "sender": "Sales <sales@example.com>",
        "subject": "Offer",
        "text": "Hello Ada.",
    }
    fields.update(changes)
    return EmailMessage(**fields)


def config(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "capabilities": {"email_sending": {"providers": ["resend"]}},
        "providers": {"resend": {"type": "resend", **settings}},
    }


async def send_once(settings: dict[str, Any], msg: EmailMessage, key: str | None) -> Any:
    gateway = Gateway.from_config(config(settings), env={})
    async with gateway:
        return await gateway.email_sending.send(msg, idempotency_key=key)


async def test_the_same_key_and_body_answer_the_same_id_and_send_once(resend, settings):
    sender = resend_sender(**settings)
    first = await sender.send(message(), idempotency_key="welcome/42")
    again = await sender.send(message(), idempotency_key="welcome/42")
    await sender.aclose()
    assert first.provider_message_id == again.provider_message_id
    assert len(resend.requests) == 2 and len(resend.emails) == 1


async def test_the_same_key_with_another_body_is_refused_as_bad_input(resend, settings):
    sender = resend_sender(**settings)
    await sender.send(message(), idempotency_key="welcome/42")
    with pytest.raises(InvalidInput, match=r"invalid_idempotent_request.*use a new key"):
        await sender.send(message(text="Other text"), idempotency_key="welcome/42")
    await sender.aclose()
    assert len(resend.emails) == 1


async def test_a_key_still_in_flight_is_ambiguous(resend, settings):
    resend.answer_next(
        409,
        {
            "statusCode": 409,
            "name": "concurrent_idempotent_requests",
            "message": "Same idempotency key used while original request is still in progress.",
        },
    )
    sender = resend_sender(**settings)
    with pytest.raises(Ambiguous, match="still in progress"):
        await sender.send(message(), idempotency_key="welcome/42")
    await sender.aclose()


async def test_through_the_gateway_a_repeated_call_is_sent_once(resend, settings):
    first = await send_once(settings, message(), "campaign-7/lead-42")
    retry = await send_once(settings, message(), "campaign-7/lead-42")  # e.g. after a crash
    assert first.status is retry.status is Status.OK
    assert first.value.provider_message_id == retry.value.provider_message_id
    assert first.value.message_id == retry.value.message_id
    assert len(resend.emails) == 1
    keys = {headers["Idempotency-Key"] for _, _, headers, _ in resend.requests}
    assert keys == {"campaign-7/lead-42"}


async def test_through_the_gateway_a_reused_key_with_another_message_is_rejected(resend, settings):
    await send_once(settings, message(), "campaign-7/lead-42")
    outcome = await send_once(settings, message(subject="Other"), "campaign-7/lead-42")
    assert outcome.status is Status.REJECTED
    assert len(resend.emails) == 1


async def test_an_ambiguous_timeout_is_retried_with_the_same_key_and_sends_once(resend, settings):
    # Resend sends the email but the answer comes too late: the chain cannot know, and
    # retries through Resend with the same key, which answers the first email's id
    resend.answer_next(200, {"id": "late"}, delay=1.0, process=True)
    outcome = await send_once({**settings, "timeout": 0.3}, message(), "campaign-7/lead-43")
    assert outcome.status is Status.OK
    assert [a.error for a in outcome.attempts] == ["Ambiguous", None]
    assert len(resend.emails) == 1
    assert outcome.value.provider_message_id == resend.emails[0][0]


async def test_without_a_caller_key_the_gateway_derives_one_from_the_message(resend, settings):
    await send_once(settings, message(), None)
    await send_once(settings, message(), None)  # the same payload: the same derived key
    assert len(resend.emails) == 1
    (key,) = {headers["Idempotency-Key"] for _, _, headers, _ in resend.requests}
    assert key
