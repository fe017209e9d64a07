"""Rate limits and quotas, the retry budget, the idempotency ledger, the audit trail."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime

import attrs
import pytest

from aicmo_gateway import Outcome, Quota, RateLimit, Status
from aicmo_gateway.engine.budget import RetryBudget
from aicmo_gateway.engine.ledger import MemoryLedger, derive_idempotency_key
from aicmo_gateway.engine.limits import ProviderLimits
from aicmo_gateway.outcome import CallRecord
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.audit import AuditTrail


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_token_bucket_allows_the_burst_then_the_rate():
    clock = Clock()
    limits = ProviderLimits(RateLimit(per_second=2, burst=2), (), clock)
    assert [limits.try_take()[0] for _ in range(3)] == [True, True, False]
    allowed, wait, why = limits.try_take()
    assert not allowed and wait == pytest.approx(0.5) and "rate limit of 2/s" in why
    clock.now += 0.5
    assert limits.try_take()[0]


def test_a_quota_resets_at_the_period_boundary():
    clock = Clock(86400.0 * 100 + 86000)  # 400 s before midnight UTC
    limits = ProviderLimits(None, (Quota(limit=2, period="day"),), clock)
    assert limits.try_take()[0] and limits.try_take()[0]
    allowed, wait, why = limits.try_take()
    assert not allowed and wait == pytest.approx(400) and "quota of 2 per day" in why
    clock.now += 400
    assert limits.try_take()[0]


def test_a_zero_quota_never_allows_a_call():
    limits = ProviderLimits(None, (Quota(limit=0, period="hour"),), Clock())
    assert not limits.try_take()[0]


def test_the_retry_budget_allows_a_ratio_of_calls_plus_a_floor():
    clock = Clock()
    budget = RetryBudget(ratio=0.1, min_per_second=0.2, window=10, clock=clock)
    for _ in range(20):
        budget.record_call()
    spent = sum(budget.try_spend() for _ in range(10))
    assert spent == 4  # 0.1 * 20 + 0.2 * 10
    clock.now += 11
    assert budget.try_spend()  # the window moved on: the floor is available again


def test_a_zero_retry_budget_allows_no_retry():
    budget = RetryBudget(ratio=0, min_per_second=0, clock=Clock())
    budget.record_call()
    assert not budget.try_spend()


def _outcome(key: str | None, status: Status = Status.OK) -> Outcome:
    return Outcome(
        status,
        value="value",
        provider="p",
        attempts=(),
        call_id="call-1",
        capability="email_sending",
        operation="send",
        idempotency_key=key,
    )


def test_the_ledger_records_only_successful_writes_with_a_key():
    ledger = MemoryLedger()
    ledger.record(_outcome("k1"))
    ledger.record(_outcome("k2", Status.FAILED))
    ledger.record(_outcome(None))
    assert ledger.get("email_sending", "send", "k1").value == "value"
    assert ledger.get("email_sending", "send", "k2") is None
    assert len(ledger) == 1


def test_the_ledger_forgets_after_its_ttl_and_beyond_its_size():
    clock = Clock()
    ledger = MemoryLedger(max_entries=2, ttl=60, clock=clock)
    for key in ("a", "b", "c"):
        ledger.record(_outcome(key))
    assert ledger.get("email_sending", "send", "a") is None  # evicted by size
    clock.now += 61
    assert ledger.get("email_sending", "send", "c") is None  # expired


def test_a_write_recorded_again_moves_to_the_newest_place_and_keeps_its_latest_answer():
    clock = Clock()
    ledger = MemoryLedger(max_entries=2, ttl=60, clock=clock)
    ledger.record(_outcome("a"))
    ledger.record(_outcome("b"))
    again = attrs.evolve(_outcome("a"), value="second", provider=None, reason="replayed")
    ledger.record(again)
    ledger.record(_outcome("c"))  # the bound forgets "b", now the oldest
    assert ledger.get("email_sending", "send", "b") is None
    kept = ledger.get("email_sending", "send", "a")
    assert (kept.value, kept.provider, kept.reason) == ("second", None, "replayed")
    assert len(ledger) == 2
    clock.now += 61
    assert ledger.get("email_sending", "send", "a") is None  # expired, and forgotten
    assert ledger.get("email_sending", "send", "c") is None
    assert len(ledger) == 0


def test_expired_and_rerecorded_writes_leave_the_bound_exact_and_the_order_bounded():
    clock = Clock()
    ledger = MemoryLedger(max_entries=3, ttl=60, clock=clock)
    for key in ("a", "b", "c"):
        ledger.record(_outcome(key))
    ledger.record(_outcome("a"))  # again, at the same time: "a" is now the newest
    ledger.record(_outcome("d"))  # the bound forgets "b", the oldest
    assert [k for k in "abcd" if ledger.get("email_sending", "send", k)] == ["a", "c", "d"]
    for _ in range(50):  # each write expires, is looked up, and is written again
        clock.now += 61
        for key in ("a", "c", "d"):
            assert ledger.get("email_sending", "send", key) is None
            ledger.record(_outcome(key))
        assert len(ledger) == 3
    assert len(ledger._order) <= 2 * ledger.max_entries + 1


def test_keys_that_look_alike_once_joined_stay_apart():
    ledger = MemoryLedger()
    ledger.record(attrs.evolve(_outcome("k"), capability="a", operation="b"))
    assert ledger.get("a", "b", "k") is not None
    assert ledger.get("a", "b\x1fk", "") is None
    assert ledger.get("a", "b", "k\x1f") is None


def test_completed_writes_keep_no_object_the_garbage_collector_tracks():
    answer = ["the provider's answer"]  # one tracked object, shared by every write
    outcomes = [attrs.evolve(_outcome(f"k{i}"), value=answer) for i in range(2000)]
    ledger = MemoryLedger()
    gc.collect()
    before = len(gc.get_objects())
    for outcome in outcomes:
        ledger.record(outcome)
    gc.collect()
    assert len(gc.get_objects()) - before < 10  # the ledger's own dicts, not one per write


async def test_the_ledger_claim_serialises_one_key_and_not_others():
    ledger = MemoryLedger()
    order: list[str] = []

    async def hold(key: str, tag: str) -> None:
        async with ledger.claim("c", "op", key):
            order.append(f"{tag}-in")
            await asyncio.sleep(0.01)
            order.append(f"{tag}-out")

    await asyncio.gather(hold("k", "a"), hold("k", "b"), hold("other", "c"))
    assert order.index("a-out") < order.index("b-in")
    assert order.index("c-in") < order.index("a-out")


def test_derived_keys_depend_on_the_payload_only():
    one = EmailMessage(to="a@example.com", subject="Hi", text="x")
    same = EmailMessage(to=["a@example.com"], subject="Hi", text="x")
    other = EmailMessage(to="a@example.com", subject="Hi", text="y")
    key = derive_idempotency_key("email_sending", "send", one)
    assert key == derive_idempotency_key("email_sending", "send", same)
    assert key != derive_idempotency_key("email_sending", "send", other)
    assert key != derive_idempotency_key("social_posting", "send", one)


def test_the_audit_trail_keeps_only_the_last_n_calls():
    trail = AuditTrail(size=2)
    for i in range(3):
        outcome = Outcome(
            Status.OK,
            value=None,
            provider="p",
            attempts=(),
            call_id=f"c{i}",
            capability="crm_sync",
            operation="upsert_contact",
        )
        trail.add(CallRecord(outcome, datetime.now(UTC), 0.0))
    assert trail.get("c0") is None
    assert [r.outcome.call_id for r in trail.recent()] == ["c1", "c2"]


def test_an_audit_trail_of_size_zero_keeps_nothing():
    trail = AuditTrail(size=0)
    outcome = Outcome(
        Status.OK,
        value=None,
        provider="p",
        attempts=(),
        call_id="c",
        capability="crm_sync",
        operation="upsert_contact",
    )
    trail.add(CallRecord(outcome, datetime.now(UTC), 0.0))
    assert len(trail) == 0


def test_health_rows_are_built_only_when_a_write_is_due(tmp_path):
    from aicmo_gateway.state.files import StateFiles

    built = []

    def rows():
        built.append(1)
        return []

    state = StateFiles(tmp_path, health_interval=60)
    for _ in range(5):
        state.write_health(rows)
    assert len(built) == 1
    state.write_health(rows, force=True)
    assert len(built) == 2
    assert state.read_health()["providers"] == []


def test_the_p99_follows_new_latencies_after_a_batch_of_samples():
    from aicmo_gateway.engine.slot import ProviderSlot
    from aicmo_gateway.plugins.provider_type import ProviderType

    slot = ProviderSlot("p", ProviderType(name="p", factory=object), object())
    for _ in range(100):
        slot.finished(slot.started(0.0), 0.01)
    assert slot.p99() == pytest.approx(0.01)
    for _ in range(16):
        slot.finished(slot.started(0.0), 5.0)
    assert slot.p99() == pytest.approx(5.0)
