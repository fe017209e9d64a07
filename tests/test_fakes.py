"""The fault-injecting fake provider: each profile's behaviour in virtual time, and in a chain."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aicmo_gateway import (
    Ambiguous,
    ConfigError,
    Gateway,
    Idempotency,
    QuotaExhausted,
    RateLimited,
    Status,
    Unavailable,
)
from aicmo_gateway.ports import (
    PORTS,
    Contact,
    CrmRecord,
    DeliveryReceipt,
    EmailMessage,
    Engagement,
    Enrichment,
    Lead,
    PostReceipt,
    Reply,
    ReplyBatch,
    SendReceipt,
    SocialPost,
    Verification,
    WebhookEvent,
)
from aicmo_gateway.testing.fake_plugin import (
    fake_config,
    fake_plugin,
    fake_provider_type,
    fake_registry,
)
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.profiles import (
    Behaviour,
    CallInfo,
    Profile,
    Step,
    accept_then_timeout,
    black_hole,
    by_time,
    down_between,
    error_rate,
    fast_failure,
    fixed,
    flapping,
    healthy,
    lognormal,
    phases,
    quota,
    rate_limited,
    sequence,
    slow,
)
from aicmo_gateway.testing.virtual_time import VirtualClock, loop_time, run_virtual

EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(n: int = 1) -> EmailMessage:
    return EmailMessage(
        to="ada@example.com", subject="Hi", text="Hello", message_id=f"<m{n}@example.com>"
    )


def run(coro: Awaitable[Any], **kwargs: Any) -> Any:
    async def main() -> Any:
        return await coro

    return run_virtual(main(), **kwargs)


async def outcome_at(fake: FakeProvider, at: float) -> str:
    """What a ``verify`` call at virtual time ``at`` gives: "ok" or the error's class name."""
    await asyncio.sleep(at - loop_time())
    try:
        await fake.verify("ada@example.com")
    except Exception as exc:
        return type(exc).__name__
    return "ok"


def timeline(fake: FakeProvider, times: list[float]) -> list[str]:
    async def main() -> list[str]:
        return [await outcome_at(fake, at) for at in times]

    return run_virtual(main())


# -- the provider -----------------------------------------------------------------


def test_a_healthy_fake_returns_valid_records_for_every_port_method() -> None:
    fake = FakeProvider(
        replies=[Reply(message_id="<r1@x.com>", sender=None, subject="Re", text="")]
    )
    contact = Contact(email="Ada@Example.com")
    calls: list[tuple[Callable[..., Awaitable[Any]], Any, type | tuple[type, ...]]] = [
        (fake.send, message(), SendReceipt),
        (fake.fetch_replies, None, ReplyBatch),
        (fake.upsert_contact, contact, CrmRecord),
        (fake.upsert_contacts, [contact], list),
        (fake.log_engagement, Engagement(contact_email="ada@example.com", kind="note"), CrmRecord),
        (fake.enrich, Lead(email="ada@example.com"), Enrichment),
        (fake.enrich_many, [Lead(email="ada@example.com")], list),
        (fake.verify, "ada@example.com", Verification),
        (fake.verify_many, ["ada@example.com"], list),
        (fake.post, SocialPost(text="hello"), PostReceipt),
        (fake.dispatch, WebhookEvent(type="lead.replied", id="evt-1"), DeliveryReceipt),
    ]
    for method, payload, kind in calls:
        assert isinstance(run(method(payload)), kind), method.__name__
    every_operation = {op.name for spec in PORTS.values() for op in spec.operations}
    assert set(fake.calls) == every_operation
    assert all(count == 1 for count in fake.calls.values())


def test_a_send_receipt_carries_the_message_id_and_the_side_effect_is_recorded() -> None:
    fake = FakeProvider(name="primary")
    receipt = run(fake.send(message(7)))
    assert receipt.message_id == "<m7@example.com>"
    assert receipt.accepted == ("ada@example.com",)
    assert fake.performed == [("send", "<m7@example.com>")]
    assert fake.received == [("send", message(7))]


def test_reads_perform_no_side_effect_and_upserts_report_created_once() -> None:
    fake = FakeProvider()
    first = run(fake.upsert_contact(Contact(email="ada@example.com")))
    again = run(fake.upsert_contact(Contact(email="ADA@example.com", first_name="Ada")))
    run(fake.verify("ada@example.com"))
    assert (first.created, again.created) == (True, False)
    assert fake.performed == [("upsert_contact", "ada@example.com")] * 2
    assert fake.duplicates() == []  # an upsert repeated is not a duplicate side effect


def test_fetch_replies_pages_through_its_replies_with_a_cursor() -> None:
    replies = [
        Reply(message_id=f"<r{i}@x.com>", sender=None, subject="Re", text="") for i in range(3)
    ]
    fake = FakeProvider(replies=replies, page_size=2)
    first = run(fake.fetch_replies(None))
    second = run(fake.fetch_replies(first.cursor))
    assert [len(first.replies), first.has_more] == [2, True]
    assert [len(second.replies), second.has_more] == [1, False]


def test_a_fake_that_honours_idempotency_performs_a_key_once() -> None:
    fake = FakeProvider(honours_idempotency=True)
    first = run(fake.send(message(1)))
    again = run(fake.send(message(1)))
    run(fake.dispatch(WebhookEvent(type="lead.replied", id="evt-1")))
    run(fake.dispatch(WebhookEvent(type="lead.replied", id="evt-1")))
    assert again == first
    assert fake.performed == [("send", "<m1@example.com>"), ("dispatch", "evt-1")]
    assert fake.deduplicated == [("send", "<m1@example.com>"), ("dispatch", "evt-1")]
    assert fake.calls["send"] == 2


def test_a_fake_without_idempotency_performs_a_repeat_and_reports_the_duplicate() -> None:
    fake = FakeProvider()
    run(fake.send(message(1)))
    run(fake.send(message(1)))
    run(fake.send(message(2)))
    assert fake.duplicates() == [("send", "<m1@example.com>")]


# -- profiles, in virtual time ---------------------------------------------------------


def test_healthy_latency_is_spent_in_virtual_time() -> None:
    fake = FakeProvider(healthy(latency=2.5))

    async def main() -> float:
        await fake.send(message())
        return loop_time()

    assert run_virtual(main()) == 2.5


def test_fast_failure_raises_unavailable_at_once_and_performs_nothing() -> None:
    fake = FakeProvider(fast_failure(), name="primary")

    async def main() -> float:
        with pytest.raises(Unavailable, match="primary") as caught:
            await fake.send(message())
        assert caught.value.provider == "primary"
        return loop_time()

    assert run_virtual(main()) == 0.0
    assert fake.performed == []
    assert fake.calls["send"] == 1


def test_a_black_hole_never_answers_so_a_one_second_timeout_fires_at_t_1() -> None:
    fake = FakeProvider(black_hole())

    async def main() -> float:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1):
                await fake.send(message())
        return loop_time()

    assert run_virtual(main()) == 1.0
    assert fake.performed == []


def test_slow_with_a_fixed_latency() -> None:
    fake = FakeProvider(slow(30))

    async def main() -> float:
        await fake.verify("ada@example.com")
        return loop_time()

    assert run_virtual(main()) == 30.0


def test_a_lognormal_latency_is_seeded_and_has_the_asked_median_and_p99() -> None:
    source = lognormal(0.2, 2.0, seed=3)
    samples = [source.sample() for _ in range(20_000)]
    again = lognormal(0.2, 2.0, seed=3)
    assert [again.sample() for _ in range(3)] == samples[:3]
    assert statistics.median(samples) == pytest.approx(0.2, rel=0.05)
    assert statistics.quantiles(samples, n=100)[98] == pytest.approx(2.0, rel=0.15)
    assert fixed(1.5).sample() == 1.5


def test_slow_with_a_lognormal_latency_is_reproducible_with_its_seed() -> None:
    def durations(seed: int) -> list[float]:
        fake = FakeProvider(slow(0.5, p99=5.0, seed=seed))

        async def main() -> list[float]:
            spent = []
            for _ in range(5):
                began = loop_time()
                await fake.verify("ada@example.com")
                spent.append(loop_time() - began)
            return spent

        return run_virtual(main())

    assert durations(1) == durations(1)
    assert durations(1) != durations(2)


def test_rate_limited_raises_with_a_retry_after_of_20_seconds() -> None:
    fake = FakeProvider(rate_limited(retry_after=20))

    async def main() -> None:
        with pytest.raises(RateLimited) as caught:
            await fake.send(message())
        assert caught.value.retry_after == 20

    run_virtual(main())
    assert fake.performed == []


def test_quota_allows_limit_calls_per_period_then_resets() -> None:
    fake = FakeProvider(quota(limit=2, period=60))

    async def main() -> list[object]:
        seen: list[object] = []
        for at in (0, 10, 20, 59, 60, 61, 62):
            await asyncio.sleep(at - loop_time())
            try:
                await fake.verify("ada@example.com")
                seen.append("ok")
            except QuotaExhausted as exc:
                seen.append(exc.reset_at)
        return seen

    seen = run_virtual(main(), clock=VirtualClock(epoch=EPOCH))
    reset = EPOCH + timedelta(seconds=60)
    assert seen == ["ok", "ok", reset, reset, "ok", "ok", EPOCH + timedelta(seconds=120)]


def test_accept_then_timeout_performs_the_side_effect_then_raises_ambiguous() -> None:
    fake = FakeProvider(accept_then_timeout(delay=10))

    async def main() -> float:
        with pytest.raises(Ambiguous):
            await fake.send(message(3))
        return loop_time()

    assert run_virtual(main()) == 10.0
    assert fake.performed == [("send", "<m3@example.com>")]


def test_accept_then_timeout_can_hang_after_performing() -> None:
    fake = FakeProvider(accept_then_timeout(hang=True))

    async def main() -> float:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(5):
                await fake.dispatch(WebhookEvent(type="lead.replied", id="evt-9"))
        return loop_time()

    assert run_virtual(main()) == 5.0
    assert fake.performed == [("dispatch", "evt-9")]


def test_flapping_alternates_between_up_and_down_with_time() -> None:
    fake = FakeProvider(flapping(period=10, down_fraction=0.3))
    outcomes = timeline(fake, [0, 6.9, 7, 9.9, 10, 16, 17, 25])
    assert outcomes == ["ok", "ok", "Unavailable", "Unavailable", "ok", "ok", "Unavailable", "ok"]


def test_down_between_is_hard_down_in_its_window_then_recovers() -> None:
    fake = FakeProvider(down_between(60, 120))
    assert timeline(fake, [0, 59, 60, 119, 120, 500]) == [
        "ok",
        "ok",
        "Unavailable",
        "Unavailable",
        "ok",
        "ok",
    ]


def test_a_seeded_error_rate_is_reproducible_and_near_its_rate() -> None:
    def failures(seed: int) -> list[bool]:
        fake = FakeProvider(error_rate(0.25, seed=seed))
        outcomes = timeline(fake, [float(i) for i in range(400)])
        return [outcome != "ok" for outcome in outcomes]

    first = failures(7)
    assert first == failures(7)
    assert first != failures(8)
    assert 0.18 < sum(first) / len(first) < 0.32


def test_phases_compose_profiles_over_time() -> None:
    fake = FakeProvider(
        phases([(10, healthy()), (20, rate_limited())], then=fast_failure()),
    )
    assert timeline(fake, [0, 10, 19, 20]) == ["ok", "RateLimited", "RateLimited", "Unavailable"]


def test_by_time_chooses_a_profile_from_a_function_of_time() -> None:
    up, down = healthy(), fast_failure()
    fake = FakeProvider(by_time(lambda t: down if int(t) % 2 else up))
    assert timeline(fake, [0, 1, 2, 3]) == ["ok", "Unavailable", "ok", "Unavailable"]


def test_sequence_scripts_call_by_call() -> None:
    fake = FakeProvider(sequence(fast_failure(), rate_limited(), then=healthy()))
    assert timeline(fake, [0, 0, 0, 0]) == ["Unavailable", "RateLimited", "ok", "ok"]


def test_a_custom_profile_only_needs_a_step_method() -> None:
    class EveryThirdFails:
        def step(self, call: CallInfo) -> Step:
            return Step(Behaviour.FAIL if call.index % 3 == 2 else Behaviour.SUCCEED)

    profile: Profile = EveryThirdFails()
    fake = FakeProvider(profile)
    assert timeline(fake, [0, 0, 0, 0]) == ["ok", "ok", "Unavailable", "ok"]


def test_profile_time_counts_from_the_origin_given() -> None:
    fake = FakeProvider(down_between(10, 20), origin=100.0)
    assert run(outcome_at(fake, 105), start=100.0) == "ok"
    fake = FakeProvider(down_between(10, 20), origin=100.0)
    assert run(outcome_at(fake, 115), start=100.0) == "Unavailable"


def test_builders_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        error_rate(1.5)
    with pytest.raises(ValueError, match="median < p99"):
        lognormal(2.0, 1.0)
    with pytest.raises(ValueError, match="increasing"):
        phases([(20, healthy()), (10, healthy())])
    with pytest.raises(ValueError, match="period"):
        flapping(0)


# -- registering fakes, and a chain of them --------------------------------------------


def test_the_fake_type_is_offered_for_all_seven_ports() -> None:
    registry = fake_registry(a=FakeProvider())
    for capability in PORTS:
        assert "fake" in [pt.name for pt in registry.provider_types(capability)]


def test_idempotency_is_declared_when_every_fake_honours_keys_or_when_asked() -> None:
    honest = {"a": FakeProvider(honours_idempotency=True)}
    assert fake_provider_type(honest).idempotency is Idempotency.KEY_HEADER
    assert fake_provider_type({"a": FakeProvider()}).idempotency is Idempotency.NONE
    lying = fake_provider_type({"a": FakeProvider()}, idempotency="key_header")
    assert lying.idempotency is Idempotency.KEY_HEADER


def test_fake_plugin_hooks_return_the_provider_type() -> None:
    plugin = fake_plugin({"a": FakeProvider()}, type_name="scripted")
    for spec in PORTS.values():
        (provider_type,) = getattr(plugin, spec.hook)()
        assert provider_type.name == "scripted"


def test_a_gateway_falls_back_from_a_fast_failure_to_a_healthy_fake() -> None:
    primary = FakeProvider(fast_failure(), name="primary")
    backup = FakeProvider(healthy(latency=0.3), name="backup")
    gateway = Gateway.from_config(
        fake_config("email_sending", "primary", "backup"),
        registry=fake_registry(primary=primary, backup=backup),
        env={},
    )
    outcome = run_virtual(gateway.email_sending.send(message(5)))
    assert outcome.status is Status.OK
    assert outcome.provider == "backup"
    assert [a.error for a in outcome.attempts] == ["Unavailable", None]
    assert outcome.value.message_id == "<m5@example.com>"
    assert primary.performed == []
    assert backup.performed == [("send", "<m5@example.com>")]


def test_an_attempt_timeout_on_a_black_hole_read_falls_back_in_virtual_time() -> None:
    fakes = {"hole": FakeProvider(black_hole()), "ok": FakeProvider()}
    gateway = Gateway.from_config(
        fake_config("email_verification", "hole", "ok", attempt_timeout="5s"),
        registry=fake_registry(fakes),
        env={},
    )

    async def main() -> tuple[Any, float]:
        outcome = await gateway.email_verification.verify("ada@example.com")
        return outcome, loop_time()

    outcome, at = run_virtual(main())
    assert outcome.status is Status.OK and outcome.provider == "ok"
    assert at == 5.0


def test_a_write_that_was_performed_then_timed_out_is_not_repeated_elsewhere() -> None:
    fakes = {"flaky": FakeProvider(accept_then_timeout(delay=1)), "backup": FakeProvider()}
    gateway = Gateway.from_config(
        fake_config("webhook_dispatch", "flaky", "backup"),
        registry=fake_registry(fakes),
        env={},
    )
    outcome = run_virtual(gateway.webhook_dispatch.dispatch(WebhookEvent(type="lead.replied")))
    assert outcome.status is Status.UNCERTAIN
    performed = fakes["flaky"].performed + fakes["backup"].performed
    assert len(performed) == 1 and performed[0][1] == outcome.idempotency_key


def test_an_unknown_fake_name_is_a_config_error_naming_the_fakes() -> None:
    with pytest.raises(ConfigError, match="no fake named 'missing'"):
        Gateway.from_config(
            fake_config("email_sending", "missing"),
            registry=fake_registry(present=FakeProvider()),
            env={},
        )
