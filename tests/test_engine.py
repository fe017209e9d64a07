"""The chain engine end to end, on fault-injecting fakes in virtual time.

Breakers, cooldowns, quotas, rate limits, retries and budgets, the policy when
every provider is down, health ordering and the four strategies.
"""

from __future__ import annotations

import asyncio

import pytest

from aicmo_gateway import Action, Gateway, Status, hookimpl
from aicmo_gateway.ports import EmailMessage, Lead, WebhookEvent
from aicmo_gateway.testing import (
    FakeProvider,
    fake_config,
    fake_registry,
    loop_time,
    profiles,
    run_virtual,
)


def message(i: int) -> EmailMessage:
    return EmailMessage(to=f"lead{i}@example.com", subject=f"Offer {i}", text="Hello")


def build(capability, fakes, *, provider_settings=None, idempotency=None, **cap):
    config = fake_config(capability, *fakes, **cap)
    for name, extra in (provider_settings or {}).items():
        config["providers"][name].update(extra)
    return Gateway.from_config(
        config, registry=fake_registry(fakes, idempotency=idempotency), env={}
    )


def test_a_hard_down_primary_is_skipped_once_its_breaker_opens():
    primary = FakeProvider(profiles.fast_failure())
    backup = FakeProvider()
    gateway = build("email_sending", {"primary": primary, "backup": backup})

    async def scenario():
        return [await gateway.email_sending.send(message(i)) for i in range(20)]

    outcomes = run_virtual(scenario())
    assert all(o.status is Status.OK and o.provider == "backup" for o in outcomes)
    assert primary.total_calls == 5  # consecutive_failures = 5 by default
    skip = outcomes[-1].attempts[0]
    assert skip.action is Action.SKIP and skip.provider == "primary"
    assert "open" in skip.detail


def test_a_recovered_primary_gets_one_probe_then_serves_again():
    primary = FakeProvider(profiles.down_between(0, 10))
    backup = FakeProvider()
    gateway = build(
        "email_sending",
        {"primary": primary, "backup": backup},
        provider_settings={"primary": {"health": {"open_seconds": 5}}},
    )

    async def scenario():
        served = []
        for i in range(60):
            served.append((await gateway.email_sending.send(message(i))).provider)
            await asyncio.sleep(0.5)
        return served

    served = run_virtual(scenario())
    assert served[-10:] == ["primary"] * 10
    assert primary.total_calls < 60


def test_concurrent_callers_at_half_open_send_exactly_one_probe():
    primary = FakeProvider(
        profiles.phases([(10.0, profiles.fast_failure())], then=profiles.healthy(latency=0.5))
    )
    backup = FakeProvider()
    gateway = build(
        "email_sending",
        {"primary": primary, "backup": backup},
        provider_settings={"primary": {"health": {"open_seconds": 30}}},
    )

    async def scenario():
        for i in range(5):
            await gateway.email_sending.send(message(i))
        before = primary.total_calls
        await asyncio.sleep(31)
        await asyncio.gather(*(gateway.email_sending.send(message(100 + i)) for i in range(50)))
        return primary.total_calls - before

    assert run_virtual(scenario()) == 1


def test_a_429_retry_after_is_honoured_for_every_caller():
    primary = FakeProvider(profiles.phases([(1.0, profiles.rate_limited(retry_after=20))]))
    backup = FakeProvider()
    gateway = build("email_sending", {"primary": primary, "backup": backup})

    async def scenario():
        first = await gateway.email_sending.send(message(0))
        inside = []
        for i in range(1, 40):
            await asyncio.sleep(0.5)
            inside.append(await gateway.email_sending.send(message(i)))
        await asyncio.sleep(2)
        after = await gateway.email_sending.send(message(99))
        return first, inside, after

    first, inside, after = run_virtual(scenario())
    assert first.provider == "backup"
    assert first.attempts[0].error == "RateLimited"
    assert primary.total_calls == 1 + 1  # the 429, then the call after the window
    assert all(o.provider == "backup" for o in inside)
    assert "cool" in inside[0].attempts[0].detail
    assert after.provider == "primary"


def test_a_spent_daily_quota_skips_the_provider_with_the_reason():
    primary, backup = FakeProvider(), FakeProvider()
    gateway = build(
        "email_sending",
        {"primary": primary, "backup": backup},
        provider_settings={"primary": {"daily_quota": 2}},
    )

    async def scenario():
        return [await gateway.email_sending.send(message(i)) for i in range(4)]

    outcomes = run_virtual(scenario())
    assert [o.provider for o in outcomes] == ["primary", "primary", "backup", "backup"]
    assert "quota of 2 per day used up" in outcomes[2].attempts[0].detail
    assert primary.total_calls == 2


def test_a_rate_limit_spaces_calls_to_the_provider():
    primary, backup = FakeProvider(), FakeProvider()
    gateway = build(
        "email_sending",
        {"primary": primary, "backup": backup},
        provider_settings={"primary": {"rate_limit": "2/s"}},
    )

    async def scenario():
        return [(await gateway.email_sending.send(message(i))).provider for i in range(5)]

    assert run_virtual(scenario()) == ["primary", "primary", "backup", "backup", "backup"]


def test_retries_on_the_same_provider_follow_the_on_error_rule():
    flaky = FakeProvider(
        profiles.sequence(profiles.fast_failure(), profiles.fast_failure(), then=profiles.healthy())
    )
    gateway = build(
        "email_verification", {"flaky": flaky}, retries=2, on_error={"Unavailable": "retry"}
    )
    outcome = run_virtual(gateway.email_verification.verify("ada@example.com"))
    assert outcome.status is Status.OK
    assert [a.action for a in outcome.attempts] == [Action.RETRY, Action.RETRY, Action.DONE]


def test_the_attempt_budget_caps_attempts_across_the_chain():
    fakes = {f"p{i}": FakeProvider(profiles.fast_failure()) for i in range(4)}
    gateway = build("email_verification", fakes, max_attempts=2)
    outcome = run_virtual(gateway.email_verification.verify("ada@example.com"))
    assert outcome.status is Status.FAILED
    assert sum(f.total_calls for f in fakes.values()) == 2
    assert "attempt budget" in outcome.attempts[-1].detail


def test_the_retry_budget_stops_retry_amplification_when_everything_is_down():
    down = FakeProvider(profiles.fast_failure())
    gateway = build(
        "email_verification",
        {"down": down},
        retries=3,
        on_error={"Unavailable": "retry"},
        retry_budget={"ratio": 0.1, "min_per_second": 0},
        provider_settings={
            "down": {"health": {"consecutive_failures": "off", "failure_rate_threshold": "off"}}
        },
    )

    async def scenario():
        for _ in range(100):
            await gateway.email_verification.verify("ada@example.com")

    run_virtual(scenario())
    assert down.total_calls <= 100 + 10 + 1  # one attempt per call plus ~10% retries


@pytest.mark.parametrize(("policy", "expected"), [("fail", Status.FAILED), ("wait", Status.OK)])
def test_when_every_provider_is_down_the_policy_decides(policy, expected):
    only = FakeProvider(profiles.phases([(1.0, profiles.fast_failure())]))
    gateway = build(
        "email_verification",
        {"only": only},
        when_all_down=policy,
        deadline="60s",
        provider_settings={
            "only": {
                "health": {"consecutive_failures": 1, "open_seconds": 10, "open_max_seconds": 60}
            }
        },
    )

    async def scenario():
        await gateway.email_verification.verify("a@example.com")  # trips the breaker
        t0 = loop_time()
        outcome = await gateway.email_verification.verify("b@example.com")
        return outcome, loop_time() - t0

    outcome, waited = run_virtual(scenario())
    assert outcome.status is expected
    if policy == "fail":
        assert waited == 0 and "every provider was unavailable" in outcome.reason
    else:
        assert 9 <= waited <= 11


def test_closest_policy_tries_the_provider_nearest_recovery_anyway():
    only = FakeProvider(profiles.phases([(1.0, profiles.fast_failure())]))
    gateway = build(
        "email_verification",
        {"only": only},
        when_all_down="closest",
        provider_settings={"only": {"health": {"consecutive_failures": 1}}},
    )

    async def scenario():
        await gateway.email_verification.verify("a@example.com")
        await asyncio.sleep(2)
        return await gateway.email_verification.verify("b@example.com")

    assert run_virtual(scenario()).status is Status.OK


def test_health_order_puts_the_faster_provider_first():
    slow, fast = (
        FakeProvider(profiles.healthy(latency=2.0)),
        FakeProvider(profiles.healthy(latency=0.1)),
    )
    gateway = build(
        "email_verification",
        {"slow": slow, "fast": fast},
        order="health",
        strategy="hedge",
        hedge_delay="0s",
    )

    async def scenario():
        for _ in range(3):
            await gateway.email_verification.verify("a@example.com")
        return [s.name for s in gateway.chains["email_verification"].ordered()]

    assert run_virtual(scenario()) == ["fast", "slow"]


def test_waterfall_goes_on_until_a_provider_finds_something():
    nothing = FakeProvider(name="nothing")
    nothing.verdict = "unknown"
    found = FakeProvider(name="found")
    gateway = build(
        "email_verification", {"nothing": nothing, "found": found}, strategy="waterfall"
    )
    outcome = run_virtual(gateway.email_verification.verify("ada@example.com"))
    assert outcome.status is Status.OK and outcome.provider == "found"
    assert outcome.attempts[0].detail == "empty answer"


def test_waterfall_returns_the_empty_answer_when_nobody_finds_anything():
    a, b = FakeProvider(verdict="unknown"), FakeProvider(verdict="unknown")
    gateway = build("email_verification", {"a": a, "b": b}, strategy="waterfall")
    outcome = run_virtual(gateway.email_verification.verify("ada@example.com"))
    assert outcome.status is Status.OK and outcome.provider == "b"
    assert a.total_calls == b.total_calls == 1
    actions = [(x.provider, x.action, x.detail) for x in outcome.attempts]
    assert actions == [("a", Action.FALLBACK, "empty answer"), ("b", Action.DONE, "empty answer")]


def test_an_observer_hears_each_empty_answer_once_with_the_action_it_ended_with():
    a, b = FakeProvider(verdict="unknown"), FakeProvider(verdict="unknown")
    found = FakeProvider(name="found")
    fakes = {"a": a, "b": b, "found": found}
    heard = []

    class Observer:
        @hookimpl
        def aicmo_attempt_finished(self, capability, operation, attempt):
            heard.append((attempt.provider, attempt.action))

    registry = fake_registry(fakes)
    registry.pm.register(Observer())
    config = fake_config("email_verification", *fakes, strategy="waterfall")
    gateway = Gateway.from_config(config, registry=registry, env={})
    outcome = run_virtual(gateway.email_verification.verify("ada@example.com"))
    assert outcome.provider == "found"
    expected = [("a", Action.FALLBACK), ("b", Action.FALLBACK), ("found", Action.DONE)]
    assert heard == expected
    assert [(x.provider, x.action) for x in outcome.attempts] == expected


def test_a_waterfall_whose_empty_answer_comes_last_after_a_skip_says_so():
    a = FakeProvider(verdict="unknown")
    down = FakeProvider(profiles.fast_failure())
    gateway = build("email_verification", {"a": a, "down": down}, strategy="waterfall")

    async def scenario():
        # trip "down" first, so the waterfall skips it after a's empty answer
        for i in range(6):
            await gateway.email_verification.verify(f"x{i}@example.com")
        return await gateway.email_verification.verify("ada@example.com")

    outcome = run_virtual(scenario())
    assert outcome.status is Status.OK and outcome.provider == "a"
    assert [x.action for x in outcome.attempts] == [Action.FALLBACK, Action.SKIP]


def test_hedge_starts_the_next_provider_after_the_delay_and_takes_the_first_answer():
    slow = FakeProvider(profiles.healthy(latency=5.0))
    quick = FakeProvider(profiles.healthy(latency=0.2))
    gateway = build(
        "lead_enrichment", {"slow": slow, "quick": quick}, strategy="hedge", hedge_delay="500ms"
    )

    async def scenario():
        t0 = loop_time()
        outcome = await gateway.lead_enrichment.enrich(Lead(email="ada@example.com"))
        return outcome, loop_time() - t0

    outcome, took = run_virtual(scenario())
    assert outcome.provider == "quick"
    assert took == pytest.approx(0.7, abs=0.01)
    assert Action.CANCELLED in [a.action for a in outcome.attempts]


def test_fanout_delivers_to_every_provider_and_lists_each():
    hooks = {f"hook{i}": FakeProvider() for i in range(3)}
    gateway = build("webhook_dispatch", hooks, strategy="fanout")
    outcome = run_virtual(gateway.webhook_dispatch.dispatch(WebhookEvent(type="lead.replied")))
    assert outcome.status is Status.OK
    assert set(outcome.value) == set(hooks)
    assert all(h.total_calls == 1 for h in hooks.values())


def test_fanout_names_the_first_provider_that_performed_it_and_maps_every_one():
    hooks = {"down": FakeProvider(profiles.fast_failure()), "a": FakeProvider()}
    hooks["b"] = FakeProvider()
    gateway = build("webhook_dispatch", hooks, strategy="fanout")
    outcome = run_virtual(gateway.webhook_dispatch.dispatch(WebhookEvent(type="lead.replied")))
    assert outcome.provider == "a"  # one instance name, never a joined string
    assert list(outcome.value) == ["a", "b"]  # every instance that performed it, chain order


def test_a_partial_fanout_replayed_lists_providers_in_chain_order():
    first, second = FakeProvider(), FakeProvider(profiles.sequence(profiles.fast_failure()))
    gateway = build("webhook_dispatch", {"first": first, "second": second}, strategy="fanout")
    event = WebhookEvent(type="lead.replied", data={"lead": 8})

    async def scenario():
        await gateway.webhook_dispatch.dispatch(event, idempotency_key="evt-8")
        return await gateway.webhook_dispatch.dispatch(event, idempotency_key="evt-8")

    outcome = run_virtual(scenario())
    assert outcome.status is Status.OK
    assert outcome.provider == "first" and list(outcome.value) == ["first", "second"]


def test_a_partial_fanout_is_retried_only_where_it_failed():
    ok = FakeProvider()
    flaky = FakeProvider(profiles.sequence(profiles.fast_failure(), then=profiles.healthy()))
    gateway = build("webhook_dispatch", {"ok": ok, "flaky": flaky}, strategy="fanout")
    event = WebhookEvent(type="lead.replied", data={"lead": 7})

    async def scenario():
        first = await gateway.webhook_dispatch.dispatch(event, idempotency_key="evt-7")
        second = await gateway.webhook_dispatch.dispatch(event, idempotency_key="evt-7")
        return first, second

    first, second = run_virtual(scenario())
    assert first.status is Status.FAILED and "flaky" in first.reason
    assert second.status is Status.OK
    assert ok.total_calls == 1 and flaky.total_calls == 2


def test_accept_then_timeout_on_a_write_is_uncertain_and_never_duplicated():
    primary = FakeProvider(profiles.accept_then_timeout(delay=1.0))
    backup = FakeProvider()
    gateway = build("email_sending", {"primary": primary, "backup": backup})
    outcome = run_virtual(gateway.email_sending.send(message(1)))
    assert outcome.status is Status.UNCERTAIN
    assert len(primary.performed) + len(backup.performed) == 1


def test_accept_then_timeout_retries_with_the_same_key_where_it_is_honoured():
    primary = FakeProvider(
        profiles.sequence(profiles.accept_then_timeout(delay=1.0), then=profiles.healthy()),
        honours_idempotency=True,
    )
    gateway = build(
        "email_sending",
        {"primary": primary},
        idempotency="key_header",
        retries=1,
        on_error={"Ambiguous": "retry"},
    )
    outcome = run_virtual(gateway.email_sending.send(message(1)))
    assert outcome.status is Status.OK
    assert primary.total_calls == 2
    assert len(primary.performed) == 1


def test_a_dry_run_plan_says_why_a_provider_would_be_skipped():
    primary, backup = FakeProvider(profiles.fast_failure()), FakeProvider()
    gateway = build("email_sending", {"primary": primary, "backup": backup})

    async def scenario():
        for i in range(5):
            await gateway.email_sending.send(message(i))
        return await gateway.email_sending.send(message(9), dry_run=True)

    outcome = run_virtual(scenario())
    assert [(s.provider, s.would_try) for s in outcome.value] == [
        ("primary", False),
        ("backup", True),
    ]
    assert "would skip primary" in outcome.reason and "available in" in outcome.reason


def test_in_flight_calls_far_slower_than_usual_stop_new_calls_to_a_black_hole():
    primary = FakeProvider(
        profiles.phases([(10.0, profiles.healthy(latency=0.05))], then=profiles.black_hole())
    )
    backup = FakeProvider(profiles.healthy(latency=0.05))
    gateway = build("email_verification", {"primary": primary, "backup": backup})

    async def caller(i):
        await asyncio.sleep(i * 0.02)  # 50 calls per second
        return await gateway.email_verification.verify(f"u{i}@example.com")

    async def scenario():
        return await asyncio.gather(*(caller(i) for i in range(1500)))

    outcomes = run_virtual(scenario())
    assert all(o.status is Status.OK for o in outcomes)
    later = outcomes[500:]  # from when the primary stopped answering
    isolated = next(
        i
        for i, o in enumerate(later)
        if any(a.provider == "primary" and a.action is Action.SKIP for a in o.attempts)
    )
    stuck = [
        o
        for o in later[:isolated]
        if any(a.provider == "primary" and a.error == "TimeoutError" for a in o.attempts)
    ]
    assert len(stuck) <= 12  # without the stall rule: about 500 at a 10 s timeout


def test_a_hedged_black_hole_is_isolated_by_its_breaker():
    primary = FakeProvider(profiles.black_hole())
    backup = FakeProvider(profiles.healthy(latency=0.05))
    gateway = build(
        "lead_enrichment",
        {"primary": primary, "backup": backup},
        strategy="hedge",
        hedge_delay="200ms",
    )

    async def scenario():
        return [
            await gateway.lead_enrichment.enrich(Lead(email=f"u{i}@example.com")) for i in range(30)
        ]

    outcomes = run_virtual(scenario())
    assert all(o.provider == "backup" for o in outcomes)
    assert primary.total_calls == 5  # then its breaker is open
    assert outcomes[-1].attempts[0].action is Action.SKIP


def test_health_order_demotes_a_primary_in_brownout():
    primary = FakeProvider(
        profiles.phases([(5.0, profiles.healthy(latency=0.05))], then=profiles.healthy(latency=0.5))
    )
    backup = FakeProvider(profiles.healthy(latency=0.1))
    gateway = build("email_verification", {"primary": primary, "backup": backup}, order="health")

    async def scenario():
        served = []
        for i in range(200):
            served.append((await gateway.email_verification.verify(f"u{i}@x.com")).provider)
            await asyncio.sleep(0.05)
        return served

    served = run_virtual(scenario())
    assert served[-20:] == ["backup"] * 20
    assert primary.total_calls < 140


def test_an_ambiguous_write_stays_uncertain_when_its_retry_is_refused_by_the_breaker():
    primary = FakeProvider(
        profiles.accept_then_timeout(delay=1.0, hang=True), honours_idempotency=True
    )
    backup = FakeProvider(honours_idempotency=True)
    gateway = build(
        "email_sending",
        {"primary": primary, "backup": backup},
        idempotency="key_header",
        retries=1,
        on_error={"Ambiguous": "retry"},
    )

    async def caller(i):
        await asyncio.sleep(i * 0.02)
        return await gateway.email_sending.send(message(i))

    async def scenario():
        return await asyncio.gather(*(caller(i) for i in range(500)))

    outcomes = run_virtual(scenario())
    performed = [key for fake in (primary, backup) for _, key in fake.performed]
    assert len(performed) == len(set(performed))  # no write performed twice
    assert {o.status for o in outcomes} <= {Status.OK, Status.UNCERTAIN}


def test_a_provider_that_never_answered_takes_only_a_few_concurrent_calls():
    primary = FakeProvider(profiles.black_hole())
    backup = FakeProvider(profiles.healthy(latency=0.05))
    gateway = build("email_verification", {"primary": primary, "backup": backup})

    async def caller(i):
        await asyncio.sleep(i * 0.02)
        return await gateway.email_verification.verify(f"u{i}@example.com")

    async def scenario():
        return await asyncio.gather(*(caller(i) for i in range(100)))

    outcomes = run_virtual(scenario())
    assert all(o.status is Status.OK for o in outcomes)
    assert primary.total_calls == 5  # the slow start: stall_calls in flight, none answered


def test_hedging_at_50_calls_a_second_sends_only_a_few_calls_to_a_black_hole():
    primary = FakeProvider(profiles.black_hole())
    backup = FakeProvider(profiles.healthy(latency=0.05))
    gateway = build("email_verification", {"primary": primary, "backup": backup}, strategy="hedge")

    async def caller(i):
        await asyncio.sleep(i * 0.02)
        return await gateway.email_verification.verify(f"u{i}@example.com")

    async def scenario():
        return await asyncio.gather(*(caller(i) for i in range(1000)))

    outcomes = run_virtual(scenario())
    assert all(o.provider == "backup" for o in outcomes)
    assert primary.total_calls <= 15  # 5 before the slow start holds, then one probe at a time


def test_wait_for_limits_waits_for_the_rate_limit_instead_of_skipping():
    primary, backup = FakeProvider(), FakeProvider()
    gateway = build(
        "email_sending",
        {"primary": primary, "backup": backup},
        provider_settings={"primary": {"rate_limit": "2/s", "wait_for_limits": True}},
    )

    async def scenario():
        t0 = loop_time()
        served = [(await gateway.email_sending.send(message(i))).provider for i in range(4)]
        return served, loop_time() - t0

    served, took = run_virtual(scenario())
    assert served == ["primary"] * 4
    assert took == pytest.approx(1.0, abs=0.01)  # two at once, then one every 0.5 s


def test_wait_for_limits_skips_when_the_wait_would_pass_the_deadline():
    primary, backup = FakeProvider(), FakeProvider()
    gateway = build(
        "email_sending",
        {"primary": primary, "backup": backup},
        deadline="1s",
        provider_settings={"primary": {"daily_quota": 1, "wait_for_limits": True}},
    )

    async def scenario():
        return [(await gateway.email_sending.send(message(i))).provider for i in range(2)]

    assert run_virtual(scenario()) == ["primary", "backup"]


def test_a_chain_down_everywhere_is_probed_half_as_often_as_one_provider():
    fakes = {n: FakeProvider(profiles.fast_failure()) for n in ("p1", "p2", "p3")}
    gateway = build("email_verification", fakes)

    async def scenario():
        for _ in range(60 * 10):  # 60 s at 10 calls/s
            await gateway.email_verification.verify("ada@example.com")
            await asyncio.sleep(0.1)

    run_virtual(scenario())
    # 5 attempts trip each breaker; then one probe per open period: every 5 s (the
    # open_max_seconds default) for a lone provider, every 10 s while the whole chain is down
    for fake in fakes.values():
        assert 5 + 5 <= fake.total_calls <= 5 + 7


def test_a_provider_down_while_another_serves_is_probed_at_the_usual_cadence():
    down, backup = FakeProvider(profiles.fast_failure()), FakeProvider()
    gateway = build("email_verification", {"down": down, "backup": backup})

    async def scenario():
        for _ in range(60 * 10):
            await gateway.email_verification.verify("ada@example.com")
            await asyncio.sleep(0.1)

    run_virtual(scenario())
    assert 5 + 11 <= down.total_calls <= 5 + 13  # a probe every 5 s (open_max_seconds)
