"""Attempt timeouts: one watchdog per event loop cancels every late attempt at its deadline.

The chain enforces ``attempt_timeout`` with one timer per loop for all attempts in flight
(``aicmo_gateway.engine.clock.Watchdog``) instead of a timer per attempt. These tests pin
what a caller sees: a late attempt ends as ``TimeoutError`` at its deadline, on the virtual
and on the real clock, with thousands in flight; a cancellation from outside stays a
cancellation; an attempt that answers in time leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from aicmo_gateway import Action, Gateway, Status
from aicmo_gateway.engine.clock import Watchdog, watchdog
from aicmo_gateway.engine.health import HealthPolicy
from aicmo_gateway.testing import (
    FakeProvider,
    fake_config,
    fake_registry,
    loop_time,
    profiles,
    run_virtual,
)


def build(fakes, **cap):
    config = fake_config("email_verification", *fakes, **cap)
    return Gateway.from_config(config, registry=fake_registry(fakes), env={})


def test_a_late_attempt_ends_as_a_timeout_at_its_deadline_and_the_next_provider_serves():
    gateway = build(
        {"hole": FakeProvider(profiles.black_hole()), "backup": FakeProvider()},
        attempt_timeout="2s",
    )

    async def scenario():
        t0 = loop_time()
        outcome = await gateway.email_verification.verify("ada@example.com")
        return outcome, loop_time() - t0

    outcome, took = run_virtual(scenario())
    assert outcome.status is Status.OK and outcome.provider == "backup"
    first = outcome.attempts[0]
    assert (first.provider, first.error, first.action) == ("hole", "TimeoutError", Action.FALLBACK)
    assert first.duration == pytest.approx(2.0, abs=1e-6)
    assert took == pytest.approx(2.0, abs=1e-6)


def test_thousands_of_late_attempts_each_time_out_at_their_own_deadline():
    # no slow start and no breaker, so every one of the calls reaches the black hole
    gateway = build(
        {"hole": FakeProvider(profiles.black_hole())},
        attempt_timeout="3s",
        stall_calls="off",
    )
    gateway.chains["email_verification"].slots[0].health.policy = HealthPolicy(
        consecutive_failures=None, failure_rate_threshold=None
    )

    async def one(i: int) -> tuple[float, object]:
        await asyncio.sleep(i * 0.001)  # staggered: 3,000 deadlines 1 ms apart
        t0 = loop_time()
        outcome = await gateway.email_verification.verify(f"lead{i}@example.com")
        return loop_time() - t0, outcome

    async def scenario():
        return await asyncio.gather(*(one(i) for i in range(3000)))

    results = run_virtual(scenario())
    assert len(results) == 3000
    for took, outcome in results:
        assert outcome.status is Status.FAILED
        assert outcome.attempts[0].error == "TimeoutError"
        assert took == pytest.approx(3.0, abs=1e-6)


def test_on_the_real_clock_a_timeout_fires_within_a_small_bound():
    gateway = build(
        {"hole": FakeProvider(profiles.black_hole()), "backup": FakeProvider()},
        attempt_timeout="50ms",
    )

    async def scenario():
        t0 = time.perf_counter()
        outcome = await gateway.email_verification.verify("ada@example.com")
        return outcome, time.perf_counter() - t0

    outcome, took = asyncio.run(scenario())
    assert outcome.provider == "backup"
    assert outcome.attempts[0].error == "TimeoutError"
    assert 0.05 <= took < 2.0  # generous upper bound: a shared machine may stall


def test_on_the_real_clock_a_thousand_late_attempts_all_time_out_within_the_bound():
    gateway = build(
        {"hole": FakeProvider(profiles.black_hole())},
        attempt_timeout="100ms",
        stall_calls="off",
    )
    gateway.chains["email_verification"].slots[0].health.policy = HealthPolicy(
        consecutive_failures=None, failure_rate_threshold=None
    )

    async def one(i: int) -> tuple[float, object]:
        t0 = time.perf_counter()
        outcome = await gateway.email_verification.verify(f"lead{i}@example.com")
        return time.perf_counter() - t0, outcome

    async def scenario():
        return await asyncio.gather(*(one(i) for i in range(1000)))

    results = asyncio.run(scenario())
    assert all(o.attempts[0].error == "TimeoutError" for _, o in results)
    assert min(took for took, _ in results) >= 0.1
    assert max(took for took, _ in results) < 5.0  # generous: a shared machine may stall


def test_a_cancellation_from_outside_stays_a_cancellation():
    gateway = build({"hole": FakeProvider(profiles.black_hole())}, attempt_timeout="10s")

    async def scenario():
        task = asyncio.create_task(gateway.email_verification.verify("ada@example.com"))
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the watchdog forgot the attempt: nothing fires for it later
        await asyncio.sleep(20.0)
        return len(watchdog(asyncio.get_running_loop()))

    assert run_virtual(scenario()) == 0


def test_an_attempt_that_answers_in_time_leaves_its_task_uncancelled():
    gateway = build({"quick": FakeProvider(profiles.healthy(latency=1.0))}, attempt_timeout="2s")

    async def scenario():
        outcome = await gateway.email_verification.verify("ada@example.com")
        task = asyncio.current_task()
        assert task is not None
        await asyncio.sleep(5.0)  # past the deadline the attempt had: no stray cancel
        return outcome, task.cancelling()

    outcome, cancelling = run_virtual(scenario())
    assert outcome.status is Status.OK
    assert cancelling == 0


async def _watched(guard: Watchdog, seconds: float, since: float, log: list[tuple[float, float]]):
    """Watch ``seconds`` from ``since`` (loop time) and log when the watchdog cancels it."""
    ticket = guard.watch(seconds, since)
    try:
        await asyncio.sleep(1000.0)
    except asyncio.CancelledError:
        assert guard.done(ticket)
        log.append((seconds, loop_time()))
        return
    guard.done(ticket)


def test_an_earlier_deadline_registered_later_fires_first():
    async def scenario():
        guard = watchdog(asyncio.get_running_loop())
        log: list[tuple[float, float]] = []
        t0 = loop_time()
        long = asyncio.create_task(_watched(guard, 10.0, loop_time(), log))
        await asyncio.sleep(0)
        short = asyncio.create_task(_watched(guard, 1.0, loop_time(), log))
        await asyncio.gather(long, short)
        return [(seconds, at - t0) for seconds, at in log]

    log = run_virtual(scenario())
    assert log == [(1.0, pytest.approx(1.0, abs=1e-6)), (10.0, pytest.approx(10.0, abs=1e-6))]


def test_each_loop_has_its_own_watchdog():
    async def mine() -> Watchdog:
        return watchdog(asyncio.get_running_loop())

    first, second = asyncio.run(mine()), asyncio.run(mine())
    assert first is not second


def test_a_provider_raising_a_base_exception_leaves_no_deadline_behind():
    class Stop(BaseException):
        pass

    class Raises(FakeProvider):
        async def verify(self, address: str):  # type: ignore[override]
            await asyncio.sleep(0.1)
            raise Stop

    gateway = build({"raises": Raises()}, attempt_timeout="1s")

    async def scenario():
        with pytest.raises(Stop):
            await gateway.email_verification.verify("ada@example.com")
        task = asyncio.current_task()
        assert task is not None
        await asyncio.sleep(5.0)  # past the deadline: the task is not cancelled
        return len(watchdog(asyncio.get_running_loop())), task.cancelling()

    assert run_virtual(scenario()) == (0, 0)


def test_a_deadline_of_the_same_length_watched_out_of_order_fires_on_time():
    # attempts of one length are queued in the order they are watched; one whose start was
    # read before an await (its deadline earlier than the last of its length) must not wait
    # behind the others
    async def scenario():
        guard = watchdog(asyncio.get_running_loop())
        log: list[tuple[float, float]] = []
        t0 = loop_time()
        await asyncio.sleep(5.0)
        first = asyncio.create_task(_watched(guard, 10.0, t0 + 5.0, log))  # due at 15
        await asyncio.sleep(0)
        late = asyncio.create_task(_watched(guard, 10.0, t0, log))  # read at 0: due at 10
        await asyncio.gather(first, late)
        return [round(at - t0, 6) for _, at in log], len(guard)

    assert run_virtual(scenario()) == ([10.0, 15.0], 0)


def test_many_attempt_lengths_each_fire_at_their_own_deadline():
    # more lengths than the watchdog keeps queues for: the rest share its heap
    lengths = [float(n) for n in range(40, 0, -1)]

    async def scenario():
        guard = watchdog(asyncio.get_running_loop())
        log: list[tuple[float, float]] = []
        t0 = loop_time()
        await asyncio.gather(*(_watched(guard, n, t0, log) for n in lengths * 2))
        return [(n, round(at - t0, 6)) for n, at in log], len(guard)

    log, left = run_virtual(scenario())
    assert log == [(n, n) for n in sorted(lengths * 2)]
    assert left == 0
