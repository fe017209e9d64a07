"""Per-provider health: the policy, each breaker rule, cooldowns, permits, snapshots."""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

import pytest

from aicmo_gateway.engine.health import (
    BreakerState,
    Health,
    HealthPolicy,
    Permit,
    PermitError,
    ProviderHealth,
)
from aicmo_gateway.errors import ConfigError


class Clock:
    """A fake monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(clock: Clock, **policy: Any) -> ProviderHealth:
    # these tests read more easily with long open periods than the defaults (2 s, capped at 5 s)
    policy.setdefault("open_seconds", 30.0)
    policy.setdefault("open_max_seconds", 600.0)
    return ProviderHealth(HealthPolicy(**policy), clock=clock, name="gmail")


def call(health: ProviderHealth, *, ok: bool, duration: float = 0.1) -> Permit:
    permit = health.acquire()
    assert permit is not None, health.skip_reason()
    health.record(permit, ok=ok, duration=duration)
    return permit


def fail(health: ProviderHealth, times: int = 1, duration: float = 0.1) -> None:
    for _ in range(times):
        call(health, ok=False, duration=duration)


def succeed(health: ProviderHealth, times: int = 1, duration: float = 0.1) -> None:
    for _ in range(times):
        call(health, ok=True, duration=duration)


def trip(health: ProviderHealth) -> None:
    """Fail until the breaker opens (the policy must have a consecutive rule)."""
    while health.snapshot().state is BreakerState.CLOSED:
        fail(health)


def state(health: ProviderHealth) -> BreakerState:
    return health.snapshot().state


# -- the policy -------------------------------------------------------------


def test_the_default_policy_is_valid() -> None:
    policy = HealthPolicy()
    assert policy.half_open_probes == 1
    assert policy.slow_call_seconds is None


def test_the_default_open_period_is_short_so_a_recovered_provider_serves_again_soon() -> None:
    policy = HealthPolicy()
    assert [policy.open_period(n) for n in range(1, 5)] == [2, 4, 5, 5]


def test_from_config_names_the_key_the_value_and_the_allowed_range() -> None:
    with pytest.raises(ValueError, match="failure_rate_threshold") as info:
        HealthPolicy.from_config(
            {"failure_rate_threshold": 1.5}, source="aicmo-gateway.toml", key="providers.a.health"
        )
    text = str(info.value)
    assert "aicmo-gateway.toml: providers.a.health.failure_rate_threshold" in text
    assert "1.5" in text
    assert "from 0 to 1" in text


def test_from_config_suggests_the_closest_key_for_a_typo() -> None:
    with pytest.raises(ConfigError, match="did you mean 'half_open_probes'"):
        HealthPolicy.from_config({"half_open_probe": 2})


def test_from_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        HealthPolicy.from_config({"open_seconds": "30s", "ewma_alpha": 2, "min_calls": 50})
    assert {p.key for p in info.value.problems} == {"open_seconds", "ewma_alpha", "min_calls"}


def test_from_config_reads_off_as_disabled() -> None:
    policy = HealthPolicy.from_config({"consecutive_failures": "off", "open_max_seconds": "off"})
    assert policy.consecutive_failures is None
    assert policy.open_max_seconds is None


def test_from_config_refuses_off_for_a_setting_that_cannot_be_disabled() -> None:
    with pytest.raises(
        ConfigError,
        match="half_open_probes: 'off' is not allowed: half_open_probes cannot be switched off",
    ):
        HealthPolicy.from_config({"half_open_probes": "off"})


def test_from_config_keeps_zero_as_zero() -> None:
    policy = HealthPolicy.from_config(
        {"half_open_probes": 0, "min_calls": 0, "open_seconds": 0, "slow_call_seconds": 0}
    )
    assert (policy.half_open_probes, policy.min_calls) == (0, 0)
    assert (policy.open_seconds, policy.slow_call_seconds) == (0.0, 0.0)


def test_from_config_makes_whole_seconds_floats() -> None:
    assert HealthPolicy.from_config({"open_seconds": 5}).open_seconds == 5.0


def test_a_boolean_is_not_a_number_of_calls() -> None:
    with pytest.raises(
        ConfigError, match="min_calls: expected a whole number from 0 to 1000000, got True"
    ):
        HealthPolicy.from_config({"min_calls": True})


def test_a_fractional_count_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"window_size: 2\.5 is not a whole number"):
        HealthPolicy.from_config({"window_size": 2.5})


def test_an_infinite_period_is_refused() -> None:
    with pytest.raises(ConfigError, match="open_max_seconds"):
        HealthPolicy(open_max_seconds=math.inf)


def test_min_calls_above_window_size_is_an_error_that_says_how_to_fix_it() -> None:
    with pytest.raises(ConfigError, match="could never trip") as info:
        HealthPolicy(window_size=5, min_calls=6)
    assert 'failure_rate_threshold = "off"' in str(info.value)


def test_min_calls_above_window_size_is_fine_without_a_rate_rule() -> None:
    assert HealthPolicy(window_size=0, failure_rate_threshold=None).window_size == 0


def test_a_window_bounded_neither_by_calls_nor_by_time_is_an_error() -> None:
    with pytest.raises(ConfigError, match="unbounded"):
        HealthPolicy(window_size=None, window_seconds=None)


def test_an_open_multiplier_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"open_multiplier: 0\.5 is out of range"):
        HealthPolicy(open_multiplier=0.5)


def test_the_open_period_grows_by_the_multiplier_and_stops_at_the_cap() -> None:
    policy = HealthPolicy(open_seconds=10, open_multiplier=2, open_max_seconds=50)
    assert [policy.open_period(n) for n in range(1, 6)] == [10, 20, 40, 50, 50]


def test_the_open_period_survives_an_enormous_trip_count() -> None:
    assert HealthPolicy(open_max_seconds=60).open_period(100_000) == 60
    assert HealthPolicy(open_max_seconds=None).open_period(100_000) == math.inf


def test_a_cap_below_the_base_period_wins() -> None:
    assert HealthPolicy(open_seconds=30, open_max_seconds=0).open_period(1) == 0


# -- tripping -----------------------------------------------------------------


def test_a_new_provider_is_unknown_and_available(clock: Clock) -> None:
    health = make(clock)
    snapshot = health.snapshot()
    assert snapshot.health is Health.UNKNOWN
    assert snapshot.state is BreakerState.CLOSED
    assert health.time_until_available() == 0
    assert health.skip_reason() is None


def test_the_breaker_trips_on_consecutive_failures(clock: Clock) -> None:
    health = make(clock, consecutive_failures=3, failure_rate_threshold=None)
    fail(health, 2)
    assert state(health) is BreakerState.CLOSED
    fail(health)
    assert state(health) is BreakerState.OPEN
    assert health.acquire() is None


def test_a_success_resets_the_consecutive_failure_count(clock: Clock) -> None:
    health = make(clock, consecutive_failures=3, failure_rate_threshold=None)
    fail(health, 2)
    succeed(health)
    fail(health, 2)
    assert state(health) is BreakerState.CLOSED
    assert health.snapshot().consecutive_failures == 2


def test_consecutive_failures_zero_trips_on_the_first_failure(clock: Clock) -> None:
    health = make(clock, consecutive_failures=0, failure_rate_threshold=None)
    succeed(health, 3)
    assert state(health) is BreakerState.CLOSED
    fail(health)
    assert state(health) is BreakerState.OPEN


def test_the_failure_rate_trips_only_once_min_calls_are_in_the_window(clock: Clock) -> None:
    health = make(
        clock, consecutive_failures=None, window_size=10, min_calls=6, failure_rate_threshold=0.5
    )
    fail(health, 5)  # 100% failed, but only 5 calls
    assert state(health) is BreakerState.CLOSED
    fail(health)
    assert state(health) is BreakerState.OPEN


def test_the_failure_rate_trips_at_exactly_the_threshold(clock: Clock) -> None:
    health = make(
        clock, consecutive_failures=None, window_size=4, min_calls=4, failure_rate_threshold=0.5
    )
    succeed(health, 2)
    fail(health)
    assert state(health) is BreakerState.CLOSED
    fail(health)  # 2 of 4
    assert state(health) is BreakerState.OPEN
    assert "2 failures in the last 4 calls" in (health.skip_reason() or "")


def test_a_success_never_trips_even_above_the_rate(clock: Clock) -> None:
    health = make(
        clock, consecutive_failures=None, window_size=4, min_calls=4, failure_rate_threshold=0.25
    )
    fail(health)
    succeed(health, 3)  # 1 of 4 failed, but the last call succeeded
    assert state(health) is BreakerState.CLOSED


def test_min_calls_zero_applies_the_rate_from_the_first_call(clock: Clock) -> None:
    health = make(clock, consecutive_failures=None, min_calls=0, failure_rate_threshold=1.0)
    fail(health)
    assert state(health) is BreakerState.OPEN


def test_a_zero_rate_threshold_trips_on_any_failure_after_min_calls(clock: Clock) -> None:
    health = make(clock, consecutive_failures=None, min_calls=3, failure_rate_threshold=0)
    succeed(health, 2)
    fail(health)
    assert state(health) is BreakerState.OPEN


def test_a_window_of_zero_calls_never_trips_on_the_rate(clock: Clock) -> None:
    health = make(
        clock, consecutive_failures=None, window_size=0, min_calls=0, failure_rate_threshold=0
    )
    fail(health, 20)
    assert state(health) is BreakerState.CLOSED
    assert health.snapshot().calls == 0


def test_slow_calls_count_as_failures_and_trip(clock: Clock) -> None:
    health = make(clock, slow_call_seconds=2.0, consecutive_failures=3)
    succeed(health, 3, duration=2.5)
    snapshot = health.snapshot()
    assert snapshot.state is BreakerState.OPEN
    assert snapshot.failure_rate == 0
    assert snapshot.slow_rate == 1


def test_a_call_exactly_at_the_slow_limit_is_not_slow(clock: Clock) -> None:
    health = make(clock, slow_call_seconds=2.0, consecutive_failures=1)
    succeed(health, duration=2.0)
    assert state(health) is BreakerState.CLOSED


def test_slow_counts_false_exempts_a_call_from_the_slow_rule(clock: Clock) -> None:
    health = make(clock, slow_call_seconds=1.0, consecutive_failures=1)
    permit = health.acquire()
    assert permit is not None
    health.record(permit, ok=True, duration=60.0, slow_counts=False)
    assert state(health) is BreakerState.CLOSED
    assert health.snapshot().slow_rate == 0


def test_slow_call_seconds_zero_makes_every_timed_call_slow(clock: Clock) -> None:
    health = make(clock, slow_call_seconds=0, consecutive_failures=2)
    succeed(health, duration=0.0)  # took no time: not slower than zero
    succeed(health, 2, duration=0.001)
    assert state(health) is BreakerState.OPEN


def test_the_rate_reason_mentions_slow_calls(clock: Clock) -> None:
    health = make(clock, slow_call_seconds=1, consecutive_failures=None, window_size=2, min_calls=2)
    fail(health)
    succeed(health, duration=5)
    assert "2 failed or slow calls in the last 2 calls" in (health.skip_reason() or "")


def test_a_time_based_window_forgets_old_calls(clock: Clock) -> None:
    health = make(
        clock,
        window_size=None,
        window_seconds=60,
        min_calls=3,
        consecutive_failures=None,
        failure_rate_threshold=0.5,
    )
    fail(health, 2)
    clock.advance(60)
    assert health.snapshot().calls == 0
    succeed(health)
    fail(health)  # 1 of 2: below min_calls; the two old failures are forgotten
    assert state(health) is BreakerState.CLOSED
    assert health.snapshot().calls == 2


def test_a_count_window_keeps_only_the_last_calls(clock: Clock) -> None:
    health = make(clock, window_size=3, min_calls=3, consecutive_failures=None)
    fail(health)
    succeed(health, 3)
    assert health.snapshot().calls == 3
    assert health.snapshot().failure_rate == 0


# -- open, half-open, closing ---------------------------------------------------


def test_open_refuses_until_the_deadline_then_hands_out_a_probe(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=10)
    fail(health)
    clock.advance(9.99)
    assert health.acquire() is None
    clock.advance(0.01)
    permit = health.acquire()
    assert permit is not None
    assert permit.probe
    assert state(health) is BreakerState.HALF_OPEN


def test_skip_reason_says_why_and_until_when(clock: Clock) -> None:
    health = make(clock, consecutive_failures=5, open_seconds=30)
    fail(health, 5)
    clock.advance(18)
    assert health.skip_reason() == "open after 5 consecutive failures until +12.0s"


def test_a_second_caller_at_half_open_is_told_a_probe_is_in_flight(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1)
    fail(health)
    clock.advance(1)
    assert health.acquire() is not None
    assert health.acquire() is None
    assert health.skip_reason() == "half-open: probe already in flight"


def test_a_probe_success_closes_the_breaker_with_a_fresh_window(clock: Clock) -> None:
    health = make(clock, consecutive_failures=2, open_seconds=1)
    fail(health, 2)
    clock.advance(1)
    succeed(health)
    snapshot = health.snapshot()
    assert snapshot.state is BreakerState.CLOSED
    assert (snapshot.calls, snapshot.consecutive_failures) == (0, 0)
    assert snapshot.health is Health.HEALTHY


def test_a_probe_failure_reopens_for_longer(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=10, open_multiplier=3)
    fail(health)
    clock.advance(10)
    fail(health)
    snapshot = health.snapshot()
    assert snapshot.state is BreakerState.OPEN
    assert snapshot.open_until == clock.now + 30
    assert health.skip_reason() == "open after a failed probe until +30.0s"


def test_a_slow_probe_counts_as_a_failed_probe(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1, slow_call_seconds=1)
    fail(health)
    clock.advance(1)
    succeed(health, duration=3)
    assert state(health) is BreakerState.OPEN


def test_the_open_period_grows_on_repeated_trips_and_is_capped(clock: Clock) -> None:
    health = make(
        clock,
        consecutive_failures=1,
        open_seconds=10,
        open_multiplier=2,
        open_max_seconds=25,
        recovery_successes=None,
    )
    periods = []
    for _ in range(4):
        fail(health)
        periods.append(health.time_until_available())
        clock.advance(periods[-1])
        succeed(health)  # the probe closes it again
    assert periods == [10, 20, 25, 25]
    assert health.snapshot().trips == 4


def test_sustained_recovery_shrinks_the_open_period(clock: Clock) -> None:
    health = make(
        clock, consecutive_failures=1, open_seconds=10, open_multiplier=2, recovery_successes=3
    )
    for _ in range(3):  # three trips: the next would be 80 s
        fail(health)
        clock.advance(health.time_until_available())
        succeed(health)
    succeed(health, 2)
    assert health.snapshot().trips == 3  # two successes are not yet sustained
    succeed(health, 4)  # the 3rd and 6th successes each forgive one trip
    assert health.snapshot().trips == 1
    fail(health)
    assert health.time_until_available() == 20


def test_a_failure_restarts_the_recovery_count(clock: Clock) -> None:
    health = make(clock, consecutive_failures=2, open_seconds=1, recovery_successes=3)
    fail(health, 2)
    clock.advance(1)
    succeed(health, 3)  # closing probe, then two successes
    fail(health)
    succeed(health, 2)
    assert health.snapshot().trips == 1
    succeed(health)
    assert health.snapshot().trips == 0


def test_recovery_successes_zero_forgives_a_trip_on_every_success(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1, recovery_successes=0)
    for _ in range(3):
        fail(health)
        clock.advance(health.time_until_available())
        succeed(health)
    assert health.snapshot().trips == 3
    succeed(health, 2)
    assert health.snapshot().trips == 1


@pytest.mark.parametrize("probes", [1, 3])
def test_fifty_concurrent_threads_at_half_open_get_exactly_the_probe_count(
    clock: Clock, probes: int
) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=5, half_open_probes=probes)
    fail(health)
    clock.advance(5)
    barrier = threading.Barrier(50)
    permits: list[Permit | None] = []

    def acquire() -> None:
        barrier.wait()
        permits.append(health.acquire())

    threads = [threading.Thread(target=acquire) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted = [p for p in permits if p is not None]
    assert len(granted) == probes
    assert all(p.probe for p in granted)


def test_fifty_concurrent_tasks_at_half_open_get_exactly_the_probe_count(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=5, half_open_probes=2)
    fail(health)
    clock.advance(5)

    async def attempt() -> Permit | None:
        await asyncio.sleep(0)
        return health.acquire()

    async def main() -> list[Permit | None]:
        return await asyncio.gather(*(attempt() for _ in range(50)))

    assert sum(p is not None for p in asyncio.run(main())) == 2


def test_half_open_closes_only_after_every_probe_succeeded(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1, half_open_probes=2)
    fail(health)
    clock.advance(1)
    first, second = health.acquire(), health.acquire()
    assert first is not None
    assert second is not None
    health.record(first, ok=True, duration=0.1)
    assert state(health) is BreakerState.HALF_OPEN
    assert health.acquire() is None  # one passed, one in flight: both slots used
    health.record(second, ok=True, duration=0.1)
    assert state(health) is BreakerState.CLOSED


def test_a_released_probe_frees_its_slot(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1)
    fail(health)
    clock.advance(1)
    probe = health.acquire()
    assert probe is not None
    assert health.release(probe)
    assert state(health) is BreakerState.HALF_OPEN
    assert health.acquire() is not None


def test_half_open_probes_zero_closes_when_the_open_period_ends(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=10, half_open_probes=0)
    fail(health)
    clock.advance(9)
    assert health.acquire() is None
    clock.advance(1)
    permit = health.acquire()
    assert permit is not None
    assert not permit.probe
    assert state(health) is BreakerState.CLOSED


def test_open_seconds_zero_offers_a_probe_at_once(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=0)
    fail(health)
    permit = health.acquire()
    assert permit is not None
    assert permit.probe


# -- cooldowns ----------------------------------------------------------------


def test_a_retry_after_cooldown_blocks_every_caller_until_it_passes(clock: Clock) -> None:
    health = make(clock)
    health.cool_down(20, "429")
    clock.advance(1.8)
    assert [health.acquire() for _ in range(10)] == [None] * 10
    assert health.skip_reason() == "cooling down after 429 for 18.2s"
    clock.now = 1020.0
    assert health.acquire() is not None


def test_a_cooldown_is_not_a_breaker_failure(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1)
    health.cool_down(5, "429")
    snapshot = health.snapshot()
    assert snapshot.state is BreakerState.CLOSED
    assert snapshot.health is Health.UNHEALTHY
    assert (snapshot.consecutive_failures, snapshot.trips) == (0, 0)


def test_a_shorter_cooldown_never_shortens_a_longer_one(clock: Clock) -> None:
    health = make(clock)
    health.cool_down(30, "429")
    health.cool_down(5, "421")
    assert health.time_until_available() == 30
    assert "after 429" in (health.skip_reason() or "")


def test_a_zero_second_cooldown_changes_nothing(clock: Clock) -> None:
    health = make(clock)
    health.cool_down(0, "429")
    assert health.acquire() is not None
    assert health.snapshot().cooldown_until is None


def test_a_negative_cooldown_is_refused(clock: Clock) -> None:
    with pytest.raises(ValueError, match="seconds"):
        make(clock).cool_down(-1, "429")


def test_a_cooldown_during_half_open_blocks_the_probe(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1)
    fail(health)
    health.cool_down(5, "429")
    clock.advance(1)
    assert health.acquire() is None
    assert health.time_until_available() == 4
    clock.advance(4)
    permit = health.acquire()
    assert permit is not None
    assert permit.probe


# -- availability -------------------------------------------------------------


def test_time_until_available_is_the_latest_of_the_blockers(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=10)
    fail(health)
    health.cool_down(4, "429")
    assert health.time_until_available() == 10
    health.cool_down(15, "429")
    assert health.time_until_available() == 15
    assert health.skip_reason() == (
        "open after 1 consecutive failure until +10.0s; cooling down after 429 for 15.0s"
    )


def test_time_until_available_is_infinite_while_every_probe_slot_is_taken(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1)
    fail(health)
    clock.advance(1)
    assert health.time_until_available() == 0
    assert health.acquire() is not None
    assert health.time_until_available() == math.inf


# -- permits ------------------------------------------------------------------


def test_recording_a_permit_twice_raises(clock: Clock) -> None:
    health = make(clock)
    permit = call(health, ok=True)
    with pytest.raises(PermitError, match="already recorded or released"):
        health.record(permit, ok=True, duration=0.1)
    assert health.snapshot().calls == 1


def test_recording_a_released_permit_raises(clock: Clock) -> None:
    health = make(clock)
    permit = health.acquire()
    assert permit is not None
    health.release(permit)
    with pytest.raises(PermitError):
        health.record(permit, ok=False, duration=0.1)


def test_releasing_a_settled_permit_does_nothing(clock: Clock) -> None:
    health = make(clock)
    permit = call(health, ok=True)
    assert health.release(permit) is False
    assert health.snapshot().in_flight == 0


def test_a_permit_from_another_provider_is_refused(clock: Clock) -> None:
    permit = make(clock).acquire()
    assert permit is not None
    with pytest.raises(PermitError, match="another provider"):
        make(clock).record(permit, ok=True, duration=0.1)


def test_a_negative_duration_is_refused_and_the_permit_stays_out(clock: Clock) -> None:
    health = make(clock)
    permit = health.acquire()
    assert permit is not None
    with pytest.raises(ValueError, match="duration"):
        health.record(permit, ok=True, duration=-1)
    assert health.snapshot().in_flight == 1
    health.record(permit, ok=True, duration=1)


def test_a_late_result_only_updates_the_latency(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1, ewma_alpha=1)
    late = health.acquire()
    assert late is not None
    fail(health)
    clock.advance(1)
    succeed(health)  # closed again: a new phase
    health.record(late, ok=False, duration=7)
    snapshot = health.snapshot()
    assert snapshot.state is BreakerState.CLOSED
    assert (snapshot.calls, snapshot.consecutive_failures) == (0, 0)
    assert snapshot.ewma_latency == 7


def test_a_late_probe_does_not_take_a_slot_in_a_new_half_open_phase(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1, half_open_probes=2)
    fail(health)
    clock.advance(1)
    stale, failing = health.acquire(), health.acquire()
    assert stale is not None
    assert failing is not None
    health.record(failing, ok=False, duration=0.1)  # re-opens: a new phase
    clock.advance(health.time_until_available())
    assert health.acquire() is not None
    assert health.acquire() is not None
    health.release(stale)
    assert health.acquire() is None


# -- latency and the health word -------------------------------------------------


def test_the_latency_average_weights_new_samples_by_alpha(clock: Clock) -> None:
    health = make(clock, ewma_alpha=0.5)
    succeed(health, duration=1.0)
    succeed(health, duration=3.0)
    assert health.snapshot().ewma_latency == 2.0


def test_ewma_alpha_zero_keeps_the_first_sample(clock: Clock) -> None:
    health = make(clock, ewma_alpha=0)
    succeed(health, duration=1.0)
    succeed(health, duration=9.0)
    assert health.snapshot().ewma_latency == 1.0


def test_health_is_healthy_with_failures_below_the_lower_threshold(clock: Clock) -> None:
    health = make(clock, degraded_threshold=0.25, window_size=10)
    fail(health)
    succeed(health, 4)
    assert health.snapshot().health is Health.HEALTHY


def test_health_is_degraded_with_failures_at_the_lower_threshold(clock: Clock) -> None:
    health = make(clock, degraded_threshold=0.25, window_size=10)
    fail(health)
    succeed(health, 3)
    snapshot = health.snapshot()
    assert snapshot.health is Health.DEGRADED
    assert snapshot.reason == "1 failure in the last 4 calls"


def test_a_zero_degraded_threshold_makes_any_failure_degraded(clock: Clock) -> None:
    health = make(clock, degraded_threshold=0, window_size=10)
    succeed(health, 3)
    assert health.snapshot().health is Health.HEALTHY
    fail(health)
    assert health.snapshot().health is Health.DEGRADED


def test_a_disabled_degraded_threshold_never_shows_degraded_while_closed(clock: Clock) -> None:
    health = make(clock, degraded_threshold=None, consecutive_failures=None)
    fail(health, 3)
    assert health.snapshot().health is Health.HEALTHY


def test_health_is_degraded_while_half_open(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=1)
    fail(health)
    clock.advance(1)
    snapshot = health.snapshot()
    assert (snapshot.health, snapshot.state) == (Health.DEGRADED, BreakerState.HALF_OPEN)
    assert snapshot.reason == "half-open: 0 of 1 probes succeeded"


def test_health_is_unhealthy_while_open(clock: Clock) -> None:
    health = make(clock, consecutive_failures=1, open_seconds=10)
    fail(health)
    snapshot = health.snapshot()
    assert snapshot.health is Health.UNHEALTHY
    assert snapshot.open_until == clock.now + 10
    assert snapshot.reason == "open after 1 consecutive failure until +10.0s"
    assert snapshot.trips == 1
