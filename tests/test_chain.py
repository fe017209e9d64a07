"""The failover chain: order, classification of failures, outcomes, observers."""

from __future__ import annotations

import asyncio
import threading
import types

import attrs
import pytest

from aicmo_gateway import (
    Action,
    Ambiguous,
    Gateway,
    InvalidInput,
    NotConfigured,
    OutcomeError,
    ProviderType,
    RateLimited,
    Secret,
    Status,
    Unavailable,
    hookimpl,
)
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import Contact, EmailMessage, SendReceipt, Verification, WebhookEvent

MESSAGE = EmailMessage(to="ada@example.com", subject="Hi", text="Hello")


@attrs.define
class Scripted:
    """A provider for every port whose behaviour is a list of results or exceptions."""

    script: list = attrs.field(factory=list)
    calls: list = attrs.field(factory=list)
    delay: float = 0.0

    async def _next(self, arg):
        self.calls.append(arg)
        if self.delay:
            await asyncio.sleep(self.delay)
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, BaseException):
            raise step
        return step

    async def send(self, message):
        step = await self._next(message)
        return SendReceipt(message_id=message.message_id) if step == "ok" else step

    async def verify(self, address):
        step = await self._next(address)
        return Verification(address=address, verdict="deliverable") if step == "ok" else step

    async def dispatch(self, event):
        await self._next(event)
        from aicmo_gateway.ports import DeliveryReceipt

        return DeliveryReceipt(status_code=200, delivery_id=event.id)


INSTANCES: dict[str, Scripted] = {}


def _factory(**settings):
    return INSTANCES[settings["key"]]


@attrs.define
class Secretive(Scripted):
    token: Secret = Secret("")


def _plugin() -> types.SimpleNamespace:
    def pt(name, idempotency="none"):
        return ProviderType(name=name, factory=_factory, idempotency=idempotency)

    @hookimpl
    def aicmo_email_senders():
        return [
            pt("scripted"),
            pt("scripted-idem", "message_id"),
            ProviderType(name="secretive", factory=Secretive),
        ]

    @hookimpl
    def aicmo_email_verifiers():
        return [pt("scripted")]

    @hookimpl
    def aicmo_webhook_dispatchers():
        return [pt("scripted")]

    return types.SimpleNamespace(
        aicmo_email_senders=aicmo_email_senders,
        aicmo_email_verifiers=aicmo_email_verifiers,
        aicmo_webhook_dispatchers=aicmo_webhook_dispatchers,
    )


def gateway_for(capability, *scripts, ptype="scripted", **cap_settings):
    INSTANCES.clear()
    providers = {}
    for i, script in enumerate(scripts):
        name = f"p{i}"
        INSTANCES[name] = script if isinstance(script, Scripted) else Scripted(list(script))
        providers[name] = {"type": ptype, "key": name}
    config = {
        "capabilities": {capability: {"providers": list(providers), **cap_settings}},
        "providers": providers,
    }
    registry = Registry.from_plugins({"scripted": _plugin()})
    return Gateway.from_config(config, registry=registry, env={})


def one_provider(capability, provider_type):
    """A gateway whose ``capability`` is served by one provider of ``provider_type``."""
    from aicmo_gateway.ports import PORTS

    hook = hookimpl(lambda: provider_type)
    hook.__name__ = PORTS[capability].hook
    plugin = types.SimpleNamespace(**{PORTS[capability].hook: hook})
    return Gateway.from_config(
        {
            "capabilities": {capability: {"providers": ["only"]}},
            "providers": {"only": {"type": provider_type.name}},
        },
        registry=Registry.from_plugins({"test": plugin}),
        env={},
    )


def secretive_gateway_failing_with_its_token():
    """A gateway whose one provider has the secret token and fails with it in the message."""
    INSTANCES.clear()
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["s"]}},
            "providers": {"s": {"type": "secretive", "token": "${TOKEN}"}},
        },
        registry=Registry.from_plugins({"s": _plugin()}),
        env={"TOKEN": "tok-abcdef"},
    )
    provider = gateway.chains["email_sending"].slots[0].provider
    provider.script.append(Unavailable("auth failed for token tok-abcdef"))
    return gateway


async def test_the_first_provider_serves_when_it_succeeds():
    gateway = gateway_for("email_sending", ["ok"], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.OK and outcome.ok
    assert outcome.provider == "p0"
    assert [a.provider for a in outcome.attempts] == ["p0"]
    assert INSTANCES["p1"].calls == []


async def test_a_failing_provider_falls_back_in_config_order_and_records_each_attempt():
    gateway = gateway_for("email_sending", [Unavailable("down")], [RuntimeError("bug")], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.OK and outcome.provider == "p2"
    assert [(a.provider, a.error, a.action) for a in outcome.attempts] == [
        ("p0", "Unavailable", Action.FALLBACK),
        ("p1", "RuntimeError", Action.FALLBACK),
        ("p2", None, Action.DONE),
    ]
    assert all(a.duration >= 0 and a.started_at.tzinfo for a in outcome.attempts)
    assert outcome.attempts[0].detail == "down"


async def test_rate_limited_and_quota_errors_fall_back():
    gateway = gateway_for("email_sending", [RateLimited("slow down", retry_after=20)], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.provider == "p1"


async def test_invalid_input_stops_the_chain_as_rejected():
    gateway = gateway_for("email_sending", [InvalidInput("bad recipient")], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.REJECTED
    assert outcome.attempts[-1].action is Action.STOP
    assert INSTANCES["p1"].calls == []
    assert "bad recipient" in outcome.reason


async def test_an_ambiguous_write_is_uncertain_and_not_sent_elsewhere():
    gateway = gateway_for("email_sending", [Ambiguous("timeout after DATA")], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.UNCERTAIN
    assert outcome.provider == "p0"
    assert INSTANCES["p1"].calls == []


async def test_an_ambiguous_write_is_retried_with_the_same_key_where_it_is_honoured():
    gateway = gateway_for(
        "email_sending", [Ambiguous("timeout after DATA")], ["ok"], ptype="scripted-idem"
    )
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.OK
    assert outcome.provider == "p0"
    first, second = INSTANCES["p0"].calls
    assert first.message_id == second.message_id
    assert INSTANCES["p1"].calls == []


async def test_an_ambiguous_write_never_moves_to_another_provider_by_default():
    gateway = gateway_for(
        "email_sending",
        [Ambiguous("timeout"), Ambiguous("timeout again")],
        ["ok"],
        ptype="scripted-idem",
    )
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.UNCERTAIN
    assert INSTANCES["p1"].calls == []
    assert "only de-duplicates where it was seen" in outcome.attempts[-1].detail


async def test_fallback_after_ambiguous_idempotent_allows_providers_honouring_keys():
    gateway = gateway_for(
        "email_sending",
        [Ambiguous("timeout"), Ambiguous("timeout again")],
        ["ok"],
        ptype="scripted-idem",
        fallback_after_ambiguous="idempotent",
    )
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.OK
    assert outcome.provider == "p1"
    assert INSTANCES["p0"].calls[0].message_id == INSTANCES["p1"].calls[0].message_id


async def test_an_ambiguous_read_falls_back():
    gateway = gateway_for("email_verification", [Ambiguous("timeout")], ["ok"])
    outcome = await gateway.email_verification.verify("ada@example.com")
    assert outcome.status is Status.OK and outcome.provider == "p1"


async def test_an_attempt_timeout_on_a_write_is_uncertain():
    gateway = gateway_for(
        "email_sending", Scripted(["ok"], delay=1.0), ["ok"], attempt_timeout="50ms"
    )
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.UNCERTAIN
    assert outcome.attempts[0].error == "TimeoutError"
    assert INSTANCES["p1"].calls == []


async def test_an_attempt_timeout_on_a_read_falls_back():
    gateway = gateway_for(
        "email_verification", Scripted(["ok"], delay=1.0), ["ok"], attempt_timeout="50ms"
    )
    outcome = await gateway.email_verification.verify("ada@example.com")
    assert outcome.status is Status.OK and outcome.provider == "p1"


async def test_when_every_provider_fails_the_outcome_is_failed_with_each_reason():
    gateway = gateway_for("email_sending", [Unavailable("one")], [Unavailable("two")])
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.FAILED
    assert outcome.provider is None and outcome.value is None
    assert "p0: Unavailable: one" in outcome.reason and "p1: Unavailable: two" in outcome.reason
    with pytest.raises(OutcomeError, match=r"email_sending\.send ended failed"):
        outcome.unwrap()


async def test_the_call_deadline_skips_the_remaining_providers():
    gateway = gateway_for(
        "email_verification", Scripted([Unavailable("x")], delay=0.2), ["ok"], deadline="100ms"
    )
    outcome = await gateway.email_verification.verify("ada@example.com", deadline=0.1)
    assert outcome.status is Status.FAILED
    assert outcome.attempts[-1].action is Action.SKIP
    assert INSTANCES["p1"].calls == []


async def test_dry_run_returns_the_plan_and_calls_no_provider():
    gateway = gateway_for("email_sending", ["ok"], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE, dry_run=True)
    assert outcome.status is Status.SIMULATED
    assert [(step.provider, step.would_try) for step in outcome.value] == [
        ("p0", True),
        ("p1", True),
    ]
    assert "would try p0, then p1" in outcome.reason
    assert INSTANCES["p0"].calls == [] and INSTANCES["p1"].calls == []


async def test_the_gateway_wide_dry_run_switch_simulates_every_call():
    INSTANCES.clear()
    INSTANCES["p0"] = Scripted()
    config = {
        "gateway": {"dry_run": True},
        "capabilities": {"email_sending": {"providers": ["p0"]}},
        "providers": {"p0": {"type": "scripted", "key": "p0"}},
    }
    gateway = Gateway.from_config(config, registry=Registry.from_plugins({"s": _plugin()}), env={})
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.SIMULATED and INSTANCES["p0"].calls == []


async def test_a_noop_provider_never_reports_ok():
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["discard"]}},
            "providers": {"discard": {"type": "noop"}},
        },
        env={},
    )
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.SIMULATED
    assert not outcome.ok
    assert "did not perform" in outcome.reason


async def test_writes_get_a_stable_derived_idempotency_key_and_message_id():
    gateway = gateway_for("email_sending", [Unavailable("down")], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.idempotency_key.startswith("auto-")
    assert outcome.idempotency_key == (await gateway.email_sending.send(MESSAGE)).idempotency_key
    (tried_first,) = INSTANCES["p0"].calls
    (served,) = INSTANCES["p1"].calls
    assert tried_first.message_id == served.message_id  # the fallback carries the same id
    assert served.message_id.startswith("<")


async def test_a_repeated_write_returns_the_recorded_outcome_without_a_second_send():
    gateway = gateway_for("email_sending", ["ok", "ok"])
    first = await gateway.email_sending.send(MESSAGE)
    second = await gateway.email_sending.send(MESSAGE)
    assert len(INSTANCES["p0"].calls) == 1
    assert second.status is Status.OK
    assert second.value == first.value
    assert second.replayed_from == first.call_id
    assert second.call_id != first.call_id
    assert second.attempts == ()


async def test_concurrent_writes_with_one_key_perform_once():
    gateway = gateway_for("email_sending", Scripted(["ok"] * 5, delay=0.05))
    outcomes = await asyncio.gather(
        *(gateway.email_sending.send(MESSAGE, idempotency_key="k") for _ in range(5))
    )
    assert len(INSTANCES["p0"].calls) == 1
    assert all(o.ok for o in outcomes)
    assert sum(o.replayed_from is None for o in outcomes) == 1


async def test_a_failed_write_is_not_recorded_so_a_retry_is_performed():
    gateway = gateway_for("email_sending", [Unavailable("down"), "ok"])
    first = await gateway.email_sending.send(MESSAGE)
    second = await gateway.email_sending.send(MESSAGE)
    assert first.status is Status.FAILED
    assert second.status is Status.OK and second.replayed_from is None
    assert len(INSTANCES["p0"].calls) == 2


async def test_reads_are_never_served_from_the_ledger():
    gateway = gateway_for("email_verification", ["ok", "ok"])
    await gateway.email_verification.verify("ada@example.com")
    await gateway.email_verification.verify("ada@example.com")
    assert len(INSTANCES["p0"].calls) == 2


async def test_the_audit_trail_explains_a_call_by_its_id():
    gateway = gateway_for("email_sending", [Unavailable("relay down")], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    text = gateway.explain(outcome.call_id)
    assert f"call {outcome.call_id}: email_sending.send -> ok via p1" in text
    assert "tried p0 (scripted)" in text and "Unavailable: relay down -> fallback" in text
    assert "tried p1 (scripted)" in text and "ok -> done" in text


async def test_a_given_idempotency_key_is_used_and_different_keys_give_different_ids():
    gateway = gateway_for("email_sending", ["ok", "ok"])
    one = await gateway.email_sending.send(MESSAGE, idempotency_key="campaign-7:ada")
    two = await gateway.email_sending.send(MESSAGE, idempotency_key="campaign-7:bob")
    assert one.idempotency_key == "campaign-7:ada"
    assert one.value.message_id != two.value.message_id


async def test_a_message_id_set_by_the_caller_is_kept():
    gateway = gateway_for("email_sending", ["ok"])
    message = attrs.evolve(MESSAGE, message_id="<mine@example.com>")
    outcome = await gateway.email_sending.send(message)
    assert outcome.value.message_id == "<mine@example.com>"


async def test_webhook_events_carry_the_idempotency_key_as_their_id():
    gateway = gateway_for("webhook_dispatch", ["ok"])
    outcome = await gateway.webhook_dispatch.dispatch(
        WebhookEvent(type="lead.replied"), idempotency_key="evt-1"
    )
    assert outcome.value.delivery_id == "evt-1"


async def test_reads_have_no_idempotency_key():
    gateway = gateway_for("email_verification", ["ok"])
    outcome = await gateway.email_verification.verify("ada@example.com")
    assert outcome.idempotency_key is None


async def test_secrets_are_removed_from_attempt_details():
    gateway = secretive_gateway_failing_with_its_token()
    outcome = await gateway.email_sending.send(MESSAGE)
    assert "tok-abcdef" not in outcome.attempts[0].detail
    assert "tok-abcdef" not in repr(outcome)


async def test_native_batches_are_chunked_by_the_declared_batch_size():
    @attrs.define
    class Batcher:
        batches: list = attrs.field(factory=list)

        def verify(self, address):
            raise AssertionError("the native batch should be used")

        def verify_many(self, addresses):
            self.batches.append(list(addresses))
            return [Verification(address=a, verdict="unknown") for a in addresses]

    made = Batcher()

    gateway = one_provider(
        "email_verification", ProviderType(name="batcher", factory=lambda: made, batch_size=2)
    )
    addresses = [f"u{i}@example.com" for i in range(5)]
    outcome = await gateway.email_verification.verify_many(addresses)
    assert [v.address for v in outcome.value] == addresses
    assert [len(b) for b in made.batches] == [2, 2, 1]


async def test_without_a_native_batch_the_single_call_is_mapped():
    gateway = gateway_for("email_verification", ["ok", "ok", "ok"])
    outcome = await gateway.email_verification.verify_many(["a@example.com", "b@example.com"])
    assert outcome.ok and len(outcome.value) == 2
    assert INSTANCES["p0"].calls == ["a@example.com", "b@example.com"]


async def test_plain_def_provider_methods_run_in_a_worker_thread():
    seen = []

    class Blocking:
        def verify(self, address):
            seen.append(threading.current_thread().name)
            return Verification(address=address, verdict="unknown")

    gateway = one_provider("email_verification", ProviderType(name="blocking", factory=Blocking))
    await gateway.email_verification.verify("a@example.com")
    assert seen and seen[0] != threading.current_thread().name


async def test_an_unconfigured_capability_says_how_to_configure_it():
    gateway = Gateway.from_config({}, env={})
    with pytest.raises(NotConfigured) as info:
        await gateway.crm_sync.upsert_contact(Contact(email="a@example.com"))
    message = str(info.value)
    assert "[capabilities.crm_sync]" in message and "sqlite" in message


async def test_a_wrong_argument_type_is_a_type_error_naming_the_record():
    gateway = gateway_for("email_sending", ["ok"])
    with pytest.raises(TypeError, match="expected EmailMessage, got dict"):
        await gateway.email_sending.send({"to": "a@example.com"})


async def test_a_noop_read_is_simulated_too():
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_verification": {"providers": ["nothing"]}},
            "providers": {"nothing": {"type": "noop"}},
        },
        env={},
    )
    outcome = await gateway.email_verification.verify("ada@example.com")
    assert outcome.status is Status.SIMULATED
    assert outcome.value.verdict == "unknown"


async def test_a_port_method_declaring_idempotency_key_receives_the_calls_key():
    seen = []

    class KeyAware:
        async def post(self, post, *, idempotency_key):
            seen.append(idempotency_key)
            from aicmo_gateway.ports import PostReceipt

            return PostReceipt(post_id="1")

    gateway = one_provider("social_posting", ProviderType(name="keyaware", factory=KeyAware))
    from aicmo_gateway.ports import SocialPost

    outcome = await gateway.social_posting.post(SocialPost(text="hello"), idempotency_key="p-1")
    assert outcome.ok
    assert seen == ["p-1"]


async def test_explain_says_when_a_write_was_replayed_from_the_ledger():
    gateway = gateway_for("email_sending", ["ok"])
    await gateway.email_sending.send(MESSAGE)
    again = await gateway.email_sending.send(MESSAGE)
    assert "nothing was performed again" in gateway.explain(again.call_id)


async def test_failures_are_logged_with_the_capability_and_no_secret(log_lines):
    gateway = secretive_gateway_failing_with_its_token()
    await gateway.email_sending.send(MESSAGE)
    assert any("email_sending.send: s failed (Unavailable)" in line for line in log_lines)
    assert any("WARNING email_sending.send ended failed" in line for line in log_lines)
    assert not any("tok-abcdef" in line for line in log_lines)
