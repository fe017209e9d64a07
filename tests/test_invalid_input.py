"""Input no provider could accept is REJECTED once: no fallback, no retry, no effect on health.

Whether the provider says so (it raises ``InvalidInput``) or the engine finds out while
preparing the payload (setting the Message-ID), the call ends ``REJECTED`` after at most one
attempt, the other providers are never asked, and no breaker counts it: a burst of bad
messages leaves the chain serving the next good one as before.
"""

from __future__ import annotations

import pytest

from aicmo_gateway import Action, Gateway, InvalidInput, Status
from aicmo_gateway.engine.chain import Chain
from aicmo_gateway.engine.slot import ProviderSlot
from aicmo_gateway.ports import PORTS, EmailMessage, Lead
from aicmo_gateway.testing import FakeProvider, fake_config, fake_registry, profiles, run_virtual


def _refuses(call):
    return InvalidInput("address parts cannot contain CR or LF", field="to")


def message(i: int) -> EmailMessage:
    return EmailMessage(to=f"lead{i}@example.com", subject=f"Offer {i}", text="Hello")


def build(capability, fakes, **cap):
    config = fake_config(capability, *fakes, **cap)
    return Gateway.from_config(config, registry=fake_registry(fakes), env={})


@pytest.mark.parametrize(
    "cap",
    [
        {},
        {"retries": 3, "on_error": {"Exception": "retry", "Unavailable": "retry"}},
        {"order": "health"},
    ],
    ids=["failover", "retry-everything", "health-order"],
)
def test_a_provider_refusing_the_input_ends_the_call_rejected_without_fallback(cap):
    primary = FakeProvider(profiles.failing(_refuses), name="primary")
    backup = FakeProvider(name="backup")
    gateway = build("email_sending", {"primary": primary, "backup": backup}, **cap)

    async def scenario():
        return [await gateway.email_sending.send(message(i)) for i in range(12)]

    outcomes = run_virtual(scenario())
    assert [o.status for o in outcomes] == [Status.REJECTED] * 12
    assert all(len(o.attempts) == 1 and o.attempts[0].action is Action.STOP for o in outcomes)
    assert primary.total_calls == 12
    assert backup.total_calls == 0
    assert "CR or LF" in outcomes[0].reason


def test_rejected_input_never_opens_a_breaker_nor_fails_the_next_valid_message():
    primary = FakeProvider(profiles.failing(_refuses), name="primary")
    backup = FakeProvider(profiles.failing(_refuses), name="backup")
    gateway = build("email_sending", {"primary": primary, "backup": backup})

    async def scenario():
        bad = [await gateway.email_sending.send(message(i)) for i in range(20)]
        primary.profile = backup.profile = profiles.healthy()
        good = await gateway.email_sending.send(message(99))
        return bad, good

    bad, good = run_virtual(scenario())
    assert {o.status for o in bad} == {Status.REJECTED}
    assert good.status is Status.OK and good.provider == "primary"
    assert [a.action for a in good.attempts] == [Action.DONE]
    for row in gateway.status():
        assert row["state"] == "closed"
        assert row["consecutive_failures"] == 0
        assert row["failure_rate"] == 0.0


def test_a_hedged_read_refused_as_invalid_is_rejected_once():
    primary = FakeProvider(profiles.failing(_refuses, latency=0.05), name="primary")
    backup = FakeProvider(profiles.healthy(latency=0.05), name="backup")
    gateway = build("lead_enrichment", {"primary": primary, "backup": backup}, strategy="hedge")

    async def scenario():
        return [
            await gateway.lead_enrichment.enrich(Lead(email=f"u{i}@example.com")) for i in range(10)
        ]

    outcomes = run_virtual(scenario())
    assert {o.status for o in outcomes} == {Status.REJECTED}
    assert backup.total_calls == 0
    assert gateway.status()[0]["state"] == "closed"


def _chain_preparing_with(prepare, *fakes: FakeProvider) -> Chain:
    registry = fake_registry({f.name: f for f in fakes})
    provider_type = registry.get("email_sending", "fake")
    slots = [ProviderSlot(f.name, provider_type, f) for f in fakes]
    return Chain(PORTS["email_sending"], slots, prepare=prepare)


def test_input_the_engine_cannot_prepare_is_rejected_before_any_provider():
    def prepare(operation, payload, key):
        raise InvalidInput("the sender's domain cannot make a Message-ID", field="sender")

    primary, backup = FakeProvider(name="primary"), FakeProvider(name="backup")
    chain = _chain_preparing_with(prepare, primary, backup)

    async def scenario():
        return [await chain.call("send", message(i)) for i in range(8)]

    outcomes = run_virtual(scenario())
    assert {o.status for o in outcomes} == {Status.REJECTED}
    assert all(o.attempts == () for o in outcomes)
    assert "sender" in outcomes[0].reason and "Message-ID" in outcomes[0].reason
    assert primary.total_calls == backup.total_calls == 0
    for slot in chain.slots:
        snap = slot.health.snapshot()
        assert snap.calls == 0 and snap.in_flight == 0 and snap.trips == 0
