"""Every send consults the suppression list: single sends, batches, fanout, the sync facade."""

from __future__ import annotations

import asyncio

import pytest

from aicmo_gateway import Gateway
from aicmo_gateway.outcome import Status
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider


def gateway_with(tmp_path, *fakes: FakeProvider, **capability: object) -> Gateway:
    config = fake_config("email_sending", *(f.name for f in fakes), **capability)
    config["email"] = {"suppression": f"sqlite:///{tmp_path}/suppression.db"}
    return Gateway.from_config(config, registry=fake_registry(**{f.name: f for f in fakes}), env={})


def message(*to: str, category: str = "marketing") -> EmailMessage:
    return EmailMessage(to=list(to), subject="Hello", text="Hi", category=category)


async def test_a_message_to_an_unsubscribed_address_is_rejected_without_calling_a_provider(
    tmp_path,
):
    fake = FakeProvider(name="primary")
    gateway = gateway_with(tmp_path, fake)
    await gateway.suppression.add("alice@example.com", "unsubscribed", "one-click")
    outcome = await gateway.email_sending.send(message("Alice <ALICE@Example.com>"))
    assert outcome.status is Status.REJECTED
    assert "alice@example.com unsubscribed on 20" in (outcome.reason or "")
    assert "one-click" in (outcome.reason or "")
    assert fake.total_calls == 0
    assert outcome.suppressed.keys() == {"ALICE@Example.com"}
    assert gateway.explain(outcome.call_id).startswith(f"call {outcome.call_id}")


async def test_a_suppressed_domain_blocks_every_address_in_it(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = gateway_with(tmp_path, fake)
    await gateway.suppression.add("@Example.COM", "manual")
    outcome = await gateway.email_sending.send(message("bob@example.com"))
    assert outcome.status is Status.REJECTED
    assert "domain example.com manual" in (outcome.reason or "")
    assert fake.total_calls == 0


async def test_suppressed_recipients_are_dropped_and_the_others_get_the_message(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = gateway_with(tmp_path, fake)
    await gateway.suppression.add("bob@example.com", "hard_bounce", "bounce")
    msg = EmailMessage(
        to=["alice@example.com", "bob@example.com"],
        cc=["Bob <bob@example.com>", "carol@example.org"],
        subject="Hello",
        text="Hi",
    )
    outcome = await gateway.email_sending.send(msg)
    assert outcome.status is Status.OK
    assert set(outcome.suppressed) == {"bob@example.com"}
    assert "hard_bounce" in outcome.suppressed["bob@example.com"]
    (sent,) = [payload for op, payload in fake.received if op == "send"]
    assert sent.recipients == ("alice@example.com", "carol@example.org")


async def test_a_transactional_message_may_reach_an_unsubscribed_address(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = gateway_with(tmp_path, fake)
    await gateway.suppression.add("alice@example.com", "unsubscribed")
    outcome = await gateway.email_sending.send(
        message("alice@example.com", category="transactional")
    )
    assert outcome.status is Status.OK
    assert fake.calls["send"] == 1


@pytest.mark.parametrize("reason", ["hard_bounce", "complaint", "manual"])
async def test_a_transactional_message_never_reaches_a_bounced_or_complaining_address(
    tmp_path, reason
):
    fake = FakeProvider(name="primary")
    gateway = gateway_with(tmp_path, fake)
    await gateway.suppression.add("alice@example.com", "unsubscribed")
    await gateway.suppression.add("alice@example.com", reason)
    outcome = await gateway.email_sending.send(
        message("alice@example.com", category="transactional")
    )
    assert outcome.status is Status.REJECTED
    assert reason in (outcome.reason or "")
    assert fake.total_calls == 0


async def test_a_batch_of_concurrent_sends_skips_every_suppressed_recipient(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = gateway_with(tmp_path, fake)
    for i in range(0, 50, 5):
        await gateway.suppression.add(f"user{i}@example.com", "unsubscribed")
    outcomes = await asyncio.gather(
        *(gateway.email_sending.send(message(f"user{i}@example.com")) for i in range(50))
    )
    rejected = [i for i, o in enumerate(outcomes) if o.status is Status.REJECTED]
    assert rejected == list(range(0, 50, 5))
    sent = {p.recipients[0] for op, p in fake.received if op == "send"}
    assert len(sent) == 40 and not any(f"user{i}@" in " ".join(sent) for i in rejected)


async def test_fanout_to_several_email_providers_sends_nothing_to_a_suppressed_address(
    tmp_path,
):
    first, second = FakeProvider(name="first"), FakeProvider(name="second")
    gateway = gateway_with(tmp_path, first, second, strategy="fanout")
    await gateway.suppression.add("alice@example.com", "complaint", "arf")
    blocked = await gateway.email_sending.send(message("alice@example.com"))
    assert blocked.status is Status.REJECTED
    assert first.total_calls == second.total_calls == 0
    partial = await gateway.email_sending.send(message("alice@example.com", "dan@example.com"))
    assert partial.status is Status.OK
    for fake in (first, second):
        assert [p.recipients for op, p in fake.received if op == "send"] == [("dan@example.com",)]


def test_the_synchronous_facade_honours_the_list(tmp_path):
    fake = FakeProvider(name="primary")
    with gateway_with(tmp_path, fake).sync() as gateway:
        gateway.suppression.add("alice@example.com", "unsubscribed", "cli")
        assert gateway.suppression.check("alice@example.com").reason == "unsubscribed"
        outcome = gateway.email_sending.send(message("alice@example.com"))
    assert outcome.status is Status.REJECTED
    assert fake.total_calls == 0


async def test_an_address_removed_from_the_list_is_mailed_again(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = gateway_with(tmp_path, fake)
    await gateway.suppression.add("alice@example.com", "unsubscribed")
    assert await gateway.suppression.remove("Alice@Example.com") == 1
    outcome = await gateway.email_sending.send(message("alice@example.com"))
    assert outcome.status is Status.OK


async def test_without_a_list_sends_are_untouched(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = Gateway.from_config(
        fake_config("email_sending", "primary"), registry=fake_registry(primary=fake), env={}
    )
    assert not gateway.suppression.configured
    assert gateway.email_sending.compliance is None
    outcome = await gateway.email_sending.send(message("alice@example.com"))
    assert outcome.status is Status.OK
