"""The chain's fast path: the common call, in one frame, decides and records what the general
path would; a failed attempt hands the call over; health stays consistent across threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from aicmo_gateway import Action, Status, Unavailable
from aicmo_gateway.engine.health import BreakerState, HealthPolicy, ProviderHealth
from tests.test_chain import MESSAGE, Scripted, gateway_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _same_state(a: ProviderHealth, b: ProviderHealth) -> None:
    first, second = a.snapshot(), b.snapshot()
    assert first == second


#: (duration, slow) of successive successes, some slow, enough to forgive trips
RESULTS = [(0.1, False), (0.2, True), (0.05, False), (0.3, True), (0.3, True)] + [(0.1, False)] * 12


@pytest.mark.parametrize(
    "policy",
    [
        {},
        {"consecutive_failures": 2},
        {"slow_call_seconds": 0.15},
        {"window_seconds": 0.5, "recovery_successes": 3},
    ],
)
def test_successes_let_in_without_a_permit_leave_the_breaker_as_permits_would(policy):
    clock = Clock()
    with_permits = ProviderHealth(HealthPolicy(**policy), clock=clock)
    entered = ProviderHealth(HealthPolicy(**policy), clock=clock)
    for duration, slow in RESULTS:
        clock.now += 0.1
        permit = with_permits.acquire(now=clock.now)
        generation = entered.enter()
        if generation is None:  # not closed: the chain's general path asks for a permit
            other = entered.acquire(now=clock.now)
            assert (other is None) == (permit is None)
            if permit is not None and other is not None:
                with_permits.record(permit, ok=True, duration=duration, slow=slow, now=clock.now)
                entered.record(other, ok=True, duration=duration, slow=slow, now=clock.now)
        else:
            assert permit is not None
            with_permits.record(permit, ok=True, duration=duration, slow=slow, now=clock.now)
            entered.settle_ok(generation, duration, slow, clock.now)
        _same_state(with_permits, entered)


def test_an_attempt_let_in_counts_in_flight_until_it_is_settled():
    health = ProviderHealth(clock=Clock())
    generation = health.enter()
    assert generation is not None and health.snapshot().in_flight == 1
    health.settle_ok(generation, 0.1, False, 1000.0)
    assert health.snapshot().in_flight == 0

    generation = health.enter()
    assert generation is not None
    permit = health.adopt(generation, 1000.0)  # it failed: settled as a permit
    assert health.snapshot().in_flight == 1
    health.record(permit, ok=False, duration=0.1)
    assert health.snapshot().in_flight == 0 and health.snapshot().consecutive_failures == 1

    assert health.enter() is not None
    health.leave()
    assert health.snapshot().in_flight == 0


def test_a_success_let_in_before_the_breaker_tripped_is_late():
    clock = Clock()
    health = ProviderHealth(HealthPolicy(consecutive_failures=1), clock=clock)
    generation = health.enter()
    assert generation is not None
    permit = health.acquire()
    assert permit is not None
    health.record(permit, ok=False, duration=0.1)  # trips
    health.settle_ok(generation, 0.1, False, clock.now)
    snap = health.snapshot()
    assert snap.state is BreakerState.OPEN and snap.calls == 1 and snap.in_flight == 0


def test_an_open_or_cooling_breaker_lets_nothing_in_without_a_permit():
    clock = Clock()
    health = ProviderHealth(HealthPolicy(consecutive_failures=1), clock=clock)
    health.cool_down(5.0, "429")
    assert health.enter() is None
    clock.now += 6.0
    permit = health.acquire()  # the cooldown passed: closed again
    assert permit is not None and health.enter() is not None
    health.leave()
    health.record(permit, ok=False, duration=0.1)
    assert health.enter() is None


async def test_a_first_attempt_that_fails_is_retried_then_falls_back_with_every_attempt():
    gateway = gateway_for(
        "email_verification",
        [Unavailable("down"), Unavailable("still down")],
        [],
        retries=1,
        retry_backoff="0s",
        on_error={"Unavailable": "retry"},
    )
    outcome = await gateway.email_verification.verify("ada@example.com")
    assert outcome.status is Status.OK and outcome.provider == "p1"
    assert [(a.provider, a.action, a.error) for a in outcome.attempts] == [
        ("p0", Action.RETRY, "Unavailable"),
        ("p0", Action.FALLBACK, "Unavailable"),
        ("p1", Action.DONE, None),
    ]
    snap = gateway.chains["email_verification"].slots[0].health.snapshot()
    assert snap.consecutive_failures == 2 and snap.in_flight == 0


async def test_a_write_cancelled_during_its_attempt_frees_its_key_and_its_provider():
    gateway = gateway_for("email_sending", Scripted(delay=30.0))
    chain = gateway.chains["email_sending"]
    task = asyncio.create_task(gateway.email_sending.send(MESSAGE, idempotency_key="k1"))
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    slot = chain.slots[0]
    assert slot.health.snapshot().in_flight == 0 and not slot.inflight
    slot.provider.delay = 0.0
    again = await asyncio.wait_for(
        gateway.email_sending.send(MESSAGE, idempotency_key="k1"), timeout=5
    )
    assert again.status is Status.OK and again.replayed_from is None


async def test_a_repeated_key_is_answered_from_the_ledger_after_a_fast_write():
    gateway = gateway_for("email_sending", [])
    first = await gateway.email_sending.send(MESSAGE, idempotency_key="k2")
    second = await gateway.email_sending.send(MESSAGE, idempotency_key="k2")
    assert first.status is Status.OK and second.replayed_from == first.call_id
    assert len(gateway.chains["email_sending"].slots[0].provider.calls) == 1


def test_one_gateway_serves_two_loops_while_other_threads_read_its_status():
    gateway = gateway_for("email_verification", Scripted(delay=0.0))
    stop = threading.Event()
    seen: list[Any] = []

    health = gateway.chains["email_verification"].slots[0].health

    def watch() -> None:
        while not stop.is_set():
            seen.extend(gateway.status())
            snap = health.snapshot()  # one consistent state, whatever the loops do
            assert 0 <= snap.in_flight <= 600 and snap.calls <= 20

    async def calls(first: int) -> list[Status]:
        async def one(i: int) -> Status:
            await asyncio.sleep(0)
            return (await gateway.email_verification.verify(f"u{i}@example.com")).status

        return list(await asyncio.gather(*(one(i) for i in range(first, first + 300))))

    results: list[list[Status]] = []
    watcher = threading.Thread(target=watch)
    watcher.start()
    loops = [
        threading.Thread(target=lambda f=f: results.append(asyncio.run(calls(f))))
        for f in (0, 1000)
    ]
    for thread in loops:
        thread.start()
    for thread in loops:
        thread.join()
    stop.set()
    watcher.join()
    assert [len(r) for r in results] == [300, 300]
    assert all(status is Status.OK for r in results for status in r)
    slot = gateway.chains["email_verification"].slots[0]
    snap = slot.health.snapshot()
    assert snap.in_flight == 0 and snap.state is BreakerState.CLOSED and not slot.inflight
    assert len(slot.provider.calls) == 600 and seen
