"""``ProviderHealth`` against a reference model: the breaker's rules written as plain code.

Hypothesis drives a real ``ProviderHealth`` and the model below with the same
fake clock and the same calls (acquire, bursts of acquires, record, release,
cooldowns, time passing, misuse of settled permits) under random policies,
zeros and ``None`` included, and checks after every step that both agree on the
state, the window, the counts, the permits and the availability, and that the
safety invariants hold.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from aicmo_gateway.engine.health import (
    BreakerState,
    Health,
    HealthPolicy,
    Permit,
    PermitError,
    ProviderHealth,
)

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


@st.composite
def policies(draw: st.DrawFn) -> HealthPolicy:
    """Small policies, with zeros and ``None`` well represented; always valid."""
    size = draw(st.none() | st.integers(0, 6))
    seconds = draw(st.none() | st.sampled_from([0.0, 1.0, 3.0, 10.0]))
    if size is None and seconds is None:
        size = 4
    rate = draw(st.none() | st.sampled_from([0.0, 0.25, 0.5, 1.0]))
    min_calls = draw(st.integers(0, 6))
    if rate is not None and size is not None:
        min_calls = min(min_calls, size)
    return HealthPolicy(
        window_size=size,
        window_seconds=seconds,
        min_calls=min_calls,
        failure_rate_threshold=rate,
        degraded_threshold=draw(st.none() | st.sampled_from([0.0, 0.5, 1.0])),
        consecutive_failures=draw(st.none() | st.integers(0, 4)),
        slow_call_seconds=draw(st.none() | st.sampled_from([0.0, 1.0, 2.0])),
        open_seconds=draw(st.sampled_from([0.0, 1.0, 2.0, 5.0])),
        open_multiplier=draw(st.sampled_from([1.0, 2.0, 3.0])),
        open_max_seconds=draw(st.none() | st.sampled_from([0.0, 3.0, 10.0])),
        recovery_successes=draw(st.none() | st.integers(0, 3)),
        half_open_probes=draw(st.integers(0, 3)),
        ewma_alpha=draw(st.sampled_from([0.0, 0.5, 1.0])),
    )


@attrs.define
class Model:
    """The spec, as directly as it can be written."""

    policy: HealthPolicy
    now: float = 0.0
    state: BreakerState = CLOSED
    phase: int = 0
    trips: int = 0
    open_until: float = 0.0
    cooldown_until: float | None = None
    #: (time, counted as a failure, failed, slow) for every result since the breaker closed
    calls: list[tuple[float, bool, bool, bool]] = attrs.Factory(list)
    consecutive: int = 0
    consecutive_errors: int = 0
    streak: int = 0
    #: the last trip came from slow calls alone (no call in the window failed)
    slow_only: bool = False
    probes_out: int = 0
    probes_ok: int = 0
    recorded: int = 0
    ewma: float | None = None
    #: permit serial -> (phase issued in, is a probe)
    outstanding: dict[int, tuple[int, bool]] = attrs.Factory(dict)
    #: permits issued past a soft (slow-only) open, as a last resort
    last_resort: set[int] = attrs.Factory(set)

    def soft(self) -> bool:
        """Refusing, and only because slow calls alone opened the breaker."""
        return bool(self.waits()) and self.slow_only and self.cooldown_until is None

    def acquire_last_resort(self, serial: int) -> bool:
        if not self.waits():
            return self.acquire(serial)
        if not self.soft():
            return False
        self.outstanding[serial] = (self.phase, False)
        self.last_resort.add(serial)
        return True

    def open_period(self) -> float:
        period = self.policy.open_seconds
        for _ in range(self.trips - 1):
            period *= self.policy.open_multiplier
        cap = self.policy.open_max_seconds
        return period if cap is None else min(period, cap)

    def tick(self) -> None:
        """What the passing of time alone changes."""
        if self.cooldown_until is not None and self.now >= self.cooldown_until:
            self.cooldown_until = None
        if self.state is OPEN and self.now >= self.open_until:
            if self.policy.half_open_probes == 0:
                self.close()
            else:
                self.state, self.phase = HALF_OPEN, self.phase + 1
                self.probes_out = self.probes_ok = 0

    def window(self) -> list[tuple[float, bool, bool, bool]]:
        calls = self.calls
        if self.policy.window_seconds is not None:
            calls = [c for c in calls if self.now - c[0] < self.policy.window_seconds]
        size = self.policy.window_size
        if size is not None:
            calls = calls[max(len(calls) - size, 0) :] if size else []
        return calls

    def waits(self) -> list[float]:
        waits = []
        if self.state is OPEN:
            waits.append(self.open_until - self.now)
        if self.state is HALF_OPEN and self.probes_ok + self.probes_out >= (
            self.policy.half_open_probes
        ):
            waits.append(math.inf)
        if self.cooldown_until is not None:
            waits.append(self.cooldown_until - self.now)
        return waits

    def acquire(self, serial: int) -> bool:
        if self.waits():
            return False
        probe = self.state is HALF_OPEN
        self.probes_out += probe
        self.outstanding[serial] = (self.phase, probe)
        return True

    def release(self, serial: int) -> None:
        self.last_resort.discard(serial)
        phase, probe = self.outstanding.pop(serial)
        if probe and phase == self.phase:
            self.probes_out -= 1

    def record(self, serial: int, ok: bool, duration: float, slow_counts: bool) -> None:
        phase, probe = self.outstanding[serial]
        bypass = serial in self.last_resort
        self.last_resort.discard(serial)
        self.release(serial)
        self.recorded += 1
        alpha = self.policy.ewma_alpha
        self.ewma = duration if self.ewma is None else alpha * duration + (1 - alpha) * self.ewma
        if phase != self.phase:
            return
        limit = self.policy.slow_call_seconds
        slow = slow_counts and limit is not None and duration > limit
        failure = not ok or slow
        self.calls.append((self.now, failure, not ok, slow))
        self.consecutive = self.consecutive + 1 if failure else 0
        self.consecutive_errors = self.consecutive_errors + (not ok) if failure else 0
        if bypass:
            if not ok:
                self.trip()
            return
        if probe:
            if failure:
                self.trip()
            else:
                self.probes_ok += 1
                if self.probes_ok == self.policy.half_open_probes:
                    self.close()
        elif failure:
            self.streak = 0
            window = self.window()
            bad = sum(c[1] for c in window)
            by_streak = self.policy.consecutive_failures is not None and (
                self.consecutive >= self.policy.consecutive_failures
            )
            by_rate = (
                self.policy.failure_rate_threshold is not None
                and len(window) >= max(self.policy.min_calls, 1)
                and bad / len(window) >= self.policy.failure_rate_threshold
            )
            if by_streak or by_rate:
                self.trip()
        else:
            self.streak += 1
            wanted = self.policy.recovery_successes
            if wanted is not None and self.streak >= wanted:
                self.streak, self.trips = 0, max(self.trips - 1, 0)

    def trip(self) -> None:
        self.slow_only = not self.consecutive_errors and not any(c[2] for c in self.window())
        self.trips += 1
        self.state, self.phase = OPEN, self.phase + 1
        self.open_until = self.now + self.open_period()
        self.probes_out = self.probes_ok = self.streak = 0

    def close(self) -> None:
        self.slow_only = False
        self.state, self.phase = CLOSED, self.phase + 1
        self.calls = []
        self.probes_out = self.probes_ok = self.streak = self.consecutive = 0
        self.consecutive_errors = 0

    def health(self) -> Health:
        if self.state is OPEN or self.cooldown_until is not None:
            return Health.UNHEALTHY
        if self.state is HALF_OPEN:
            return Health.DEGRADED
        if self.recorded == 0:
            return Health.UNKNOWN
        window = self.window()
        bad = sum(c[1] for c in window)
        threshold = self.policy.degraded_threshold
        if threshold is not None and bad and bad / len(window) >= threshold:
            return Health.DEGRADED
        return Health.HEALTHY


DURATIONS = st.sampled_from([0.0, 0.5, 1.0, 1.5, 3.0])


class HealthMachine(RuleBasedStateMachine):
    """Drives a ``ProviderHealth`` and the ``Model`` side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.health: ProviderHealth
        self.model: Model
        self.outstanding: list[Permit] = []
        self.settled: list[Permit] = []

    @initialize(policy=policies())
    def start(self, policy: HealthPolicy) -> None:
        self.health = ProviderHealth(policy, clock=lambda: self.now)
        self.model = Model(policy)

    def sync(self) -> None:
        self.model.now = self.now
        self.model.tick()

    # -- time ------------------------------------------------------------------

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 2.0, 5.0, 11.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds
        self.sync()

    @precondition(lambda self: self.model.waits() and min(self.model.waits()) < math.inf)
    @rule()
    def wait_until_a_deadline_exactly(self) -> None:
        self.now += min(self.model.waits())
        self.sync()

    # -- the chain's calls -------------------------------------------------------

    @rule(callers=st.integers(1, 6))
    def acquire(self, callers: int) -> None:
        """``callers`` acquire at the same instant (a burst of concurrent attempts)."""
        self.sync()
        for _ in range(callers):
            before = self.health.snapshot()
            permit = self.health.acquire()
            if before.state is OPEN:
                assert permit is None, "OPEN handed out a permit before its deadline"
            if permit is None:
                assert not self.model.acquire(-1)
                continue
            assert self.model.acquire(permit.serial)
            assert permit.probe == self.model.outstanding[permit.serial][1]
            self.outstanding.append(permit)

    @rule()
    def acquire_as_a_last_resort(self) -> None:
        """No other provider can serve: a breaker open for slow calls alone lets it through."""
        self.sync()
        assert self.health.demoted() == self.model.soft()
        permit = self.health.acquire(last_resort=True)
        expected = self.model.acquire_last_resort(-1 if permit is None else permit.serial)
        assert (permit is not None) == expected
        if permit is not None:
            assert permit.last_resort == (permit.serial in self.model.last_resort)
            assert permit.probe == self.model.outstanding[permit.serial][1]
            self.outstanding.append(permit)

    @rule(ok=st.booleans(), duration=DURATIONS, slow_counts=st.booleans())
    def attempt_as_a_last_resort(self, ok: bool, duration: float, slow_counts: bool) -> None:
        """Acquire as a last resort and record at once, when allowed."""
        self.sync()
        permit = self.health.acquire(last_resort=True)
        expected = self.model.acquire_last_resort(-1 if permit is None else permit.serial)
        assert (permit is not None) == expected
        if permit is not None:
            self.health.record(permit, ok=ok, duration=duration, slow_counts=slow_counts)
            self.model.record(permit.serial, ok, duration, slow_counts)
            self.settled.append(permit)

    @rule(ok=st.booleans(), duration=DURATIONS, slow_counts=st.booleans())
    def attempt(self, ok: bool, duration: float, slow_counts: bool) -> None:
        """Acquire and record at once, when allowed (keeps calls flowing)."""
        self.sync()
        permit = self.health.acquire()
        assert (permit is not None) == self.model.acquire(-1 if permit is None else permit.serial)
        if permit is not None:
            self.health.record(permit, ok=ok, duration=duration, slow_counts=slow_counts)
            self.model.record(permit.serial, ok, duration, slow_counts)
            self.settled.append(permit)

    @precondition(lambda self: self.outstanding)
    @rule(
        data=st.data(),
        ok=st.booleans(),
        duration=DURATIONS,
        slow_counts=st.booleans(),
    )
    def record(self, data: st.DataObject, ok: bool, duration: float, slow_counts: bool) -> None:
        permit = self.outstanding.pop(data.draw(st.integers(0, len(self.outstanding) - 1)))
        self.sync()
        self.health.record(permit, ok=ok, duration=duration, slow_counts=slow_counts)
        self.model.record(permit.serial, ok, duration, slow_counts)
        self.settled.append(permit)

    @precondition(lambda self: self.outstanding)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        permit = self.outstanding.pop(data.draw(st.integers(0, len(self.outstanding) - 1)))
        self.sync()
        assert self.health.release(permit) is True
        self.model.release(permit.serial)
        self.settled.append(permit)

    @precondition(lambda self: self.settled)
    @rule(data=st.data(), ok=st.booleans())
    def settle_again(self, data: st.DataObject, ok: bool) -> None:
        permit = data.draw(st.sampled_from(self.settled))
        self.sync()
        assert self.health.release(permit) is False
        with pytest.raises(PermitError):
            self.health.record(permit, ok=ok, duration=0.5)

    @rule(seconds=st.sampled_from([0.0, 1.0, 3.0]))
    def cool_down(self, seconds: float) -> None:
        self.sync()
        self.health.cool_down(seconds, "429")
        until = self.now + seconds
        current = self.model.cooldown_until
        if seconds > 0 and (current is None or until > current):
            self.model.cooldown_until = until

    # -- agreement and invariants --------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        if not hasattr(self, "model"):
            return
        self.sync()
        model, snap = self.model, self.health.snapshot()
        window = model.window()
        expected: dict[str, Any] = {
            "state": model.state,
            "health": model.health(),
            "trips": model.trips,
            "calls": len(window),
            "consecutive_failures": model.consecutive,
            "in_flight": len(model.outstanding),
            "open_until": model.open_until if model.state is OPEN else None,
            "cooldown_until": model.cooldown_until,
            "failure_rate": sum(c[2] for c in window) / len(window) if window else 0.0,
            "slow_rate": sum(c[3] for c in window) / len(window) if window else 0.0,
            "demoted": model.state is not CLOSED and model.slow_only,
        }
        assert {key: getattr(snap, key) for key in expected} == expected
        assert snap.ewma_latency == pytest.approx(model.ewma)
        wait = max((max(w, 0.0) for w in model.waits()), default=0.0)
        assert self.health.time_until_available() == wait
        assert (self.health.skip_reason() is None) == (wait == 0)
        assert (snap.reason is None) == (snap.health in (Health.HEALTHY, Health.UNKNOWN))

    @invariant()
    def probes_in_flight_never_exceed_the_limit(self) -> None:
        if not hasattr(self, "model"):
            return
        phases = {p.generation for p in self.outstanding if p.probe}
        for phase in phases:
            out = sum(p.probe and p.generation == phase for p in self.outstanding)
            assert out <= self.health.policy.half_open_probes

    @invariant()
    def the_open_period_never_exceeds_the_cap(self) -> None:
        if not hasattr(self, "model"):
            return
        snap = self.health.snapshot()
        cap = self.health.policy.open_max_seconds
        if snap.open_until is not None and cap is not None:
            assert snap.open_until - snap.at <= cap


HealthMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHealthMachine = HealthMachine.TestCase
