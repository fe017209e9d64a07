"""One contract for the shared-state store, run against memory, SQLite and the real Redis.

Two store objects opened on one backend stand for two processes: what one records, the
other obeys.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from aicmo_gateway.outcome import Outcome, Status
from aicmo_gateway.ports import SendReceipt
from aicmo_gateway.state.store import ProviderSpec
from aicmo_gateway.state.store.outcomes import dump_outcome, load_outcome
from tests.store_backends import Backend, keys_without_ttl, need_redis

BACKENDS = ["memory", "sqlite", "redis"]


@pytest.fixture(params=BACKENDS)
async def backend(request, tmp_path):
    if request.param == "redis":
        need_redis()
    found = Backend(request.param, tmp_path)
    yield found
    await found.close()


SPEC = ProviderSpec(threshold=3, open_seconds=60.0, open_max_seconds=None)


async def test_a_fresh_provider_is_permitted(backend):
    verdict = await backend.open().provider("smtp", SPEC).permit()
    assert verdict.ok and verdict.kind == "ok" and verdict.fails == 0


async def test_a_cooldown_one_process_records_is_obeyed_by_another(backend):
    one, other = backend.open(), backend.open()
    mine = one.provider("smtp", SPEC)
    mine.failed(counted=False, cooldown=30.0, reason="RateLimited: slow down")
    await mine.flush()
    verdict = await other.provider("smtp", SPEC).permit()
    assert not verdict.ok and verdict.kind == "cooldown"
    assert 25 < verdict.wait <= 30 and "slow down" in verdict.reason


async def test_a_cooldown_is_never_shortened(backend):
    mine = backend.open().provider("smtp", SPEC)
    mine.failed(counted=False, cooldown=30.0, reason="long")
    mine.failed(counted=False, cooldown=5.0, reason="short")
    await mine.flush()
    verdict = await backend.open().provider("smtp", SPEC).permit()
    assert verdict.wait > 25 and verdict.reason == "long"


async def test_failures_in_a_row_across_processes_open_the_breaker_for_all(backend):
    first = backend.open().provider("smtp", SPEC)
    second = backend.open().provider("smtp", SPEC)
    for handle in (first, second, first):
        assert (await handle.permit()).ok
        handle.failed(counted=True, reason="ConnectionRefusedError: down")
        await handle.flush()
    for handle in (first, second):
        verdict = await handle.permit()
        assert not verdict.ok and verdict.kind == "open"
        assert "3 failures in a row across the fleet" in verdict.reason
        assert 55 < verdict.wait <= 60


async def test_a_success_ends_the_fleets_failures_in_a_row(backend):
    first = backend.open().provider("smtp", SPEC)
    second = backend.open().provider("smtp", SPEC)
    for _ in range(2):
        await first.permit()
        first.failed(counted=True, reason="down")
        await first.flush()
    assert (await second.permit()).fails == 2
    second.succeeded()
    await second.flush()
    await first.permit()
    first.failed(counted=True, reason="down")
    await first.flush()
    assert (await second.permit()).ok


async def test_a_failure_that_does_not_count_opens_nothing(backend):
    mine = backend.open().provider("smtp", SPEC)
    for _ in range(5):
        mine.failed(counted=False, reason="rejected")
    await mine.flush()
    assert (await mine.permit()).ok


async def test_a_processs_own_trip_is_published_to_the_fleet(backend):
    mine = backend.open().provider("smtp", SPEC)
    mine.failed(counted=True, reason="down", open_for=20.0)
    await mine.flush()
    verdict = await backend.open().provider("smtp", SPEC).permit()
    assert verdict.kind == "open" and 15 < verdict.wait <= 20
    assert "breaker opened" in verdict.reason


async def test_after_the_open_period_one_process_probes_and_its_success_closes(backend):
    spec = ProviderSpec(threshold=1, open_seconds=0.2, open_max_seconds=None)
    first = backend.open().provider("smtp", spec)
    second = backend.open().provider("smtp", spec)
    first.failed(counted=True, reason="down")
    await first.flush()
    assert (await second.permit()).kind == "open"
    await asyncio.sleep(0.3)  # the open period passes
    probe = await first.permit()
    assert probe.ok and probe.kind == "probe"
    refused = await second.permit()
    assert not refused.ok and refused.kind == "half_open"
    first.succeeded()
    await first.flush()
    assert (await second.permit()).kind == "ok"


async def test_a_failed_probe_opens_again_for_longer(backend):
    spec = ProviderSpec(threshold=1, open_seconds=0.2, open_multiplier=100.0, open_max_seconds=None)
    mine = backend.open().provider("smtp", spec)
    mine.failed(counted=True, reason="down")
    await mine.flush()
    await asyncio.sleep(0.3)
    assert (await mine.permit()).kind == "probe"
    mine.failed(counted=True, reason="still down")
    await mine.flush()
    verdict = await backend.open().provider("smtp", spec).permit()
    assert verdict.kind == "open" and verdict.wait > 15


async def test_a_quota_is_spent_once_by_the_whole_fleet(backend):
    spec = ProviderSpec(quotas=((3, 86400.0, "day"),))
    first = backend.open().provider("smtp", spec)
    second = backend.open().provider("smtp", spec)
    results = [await h.permit() for h in (first, second, first, second)]
    assert [r.ok for r in results] == [True, True, True, False]
    assert results[-1].kind == "quota" and "quota of 3 per day used up" in results[-1].reason
    assert 0 < results[-1].wait <= 86400


async def test_quota_counts_are_what_the_fleet_spent_in_the_current_periods(backend):
    spec = ProviderSpec(quotas=((10, 86400.0, "day"), (5, 3600.0, "hour")))
    first, second = backend.open(), backend.open()
    for store in (first, second, first):
        assert (await store.provider("smtp", spec).permit()).ok
    reader = backend.open()
    reader.provider("smtp", spec)  # a gateway declares its providers when it builds them
    reader.provider("idle", spec)
    assert reader.quota_counts(["smtp", "idle"]) == {
        "smtp": {"day": 3, "hour": 3},
        "idle": {},
    }


async def test_the_rate_limit_is_shared(backend):
    spec = ProviderSpec(rate=(0.001, 2.0))
    first = backend.open().provider("smtp", spec)
    second = backend.open().provider("smtp", spec)
    results = [await h.permit() for h in (first, second, first)]
    assert [r.ok for r in results] == [True, True, False]
    assert results[-1].kind == "rate" and results[-1].wait > 900


async def test_a_refused_permit_spends_no_quota(backend):
    spec = ProviderSpec(quotas=((1, 86400.0, "day"),))
    mine = backend.open().provider("smtp", spec)
    mine.failed(counted=False, cooldown=0.2, reason="slow down")
    await mine.flush()
    assert (await mine.permit()).kind == "cooldown"
    await asyncio.sleep(0.3)
    assert (await mine.permit()).ok


async def test_providers_and_names_do_not_share_facts(backend):
    mine = backend.open().provider("smtp", SPEC)
    mine.failed(counted=False, cooldown=30.0, reason="slow down")
    await mine.flush()
    assert (await backend.open().provider("gmail", SPEC).permit()).ok
    assert (await backend.open("another-app").provider("smtp", SPEC).permit()).ok


async def test_the_fleet_facts_say_what_status_shows(backend):
    spec = ProviderSpec(
        threshold=1, open_seconds=60.0, open_max_seconds=None, quotas=((10, 86400.0, "day"),)
    )
    mine = backend.open().provider("smtp", spec)
    await mine.permit()
    mine.failed(counted=True, reason="ConnectionRefusedError: down")
    await mine.flush()
    facts = await backend.open().facts(["smtp", "idle"])
    smtp, idle = facts["smtp"], facts["idle"]
    assert smtp.state == "open" and smtp.consecutive_failures == 1 and smtp.trips == 1
    assert smtp.open_until is not None and smtp.open_until > time.time() + 50
    assert "ConnectionRefusedError" in smtp.reason
    assert smtp.quota_used == {"day": 1}
    assert idle.state == "closed" and idle.quota_used == {}


# -- the ledger --------------------------------------------------------------------------


async def test_a_key_is_claimed_by_one_and_busy_for_the_others(backend):
    one, other = backend.open(), backend.open()
    assert (await one.claim("email_sending:send:k1", "call-a", 60.0, 3600.0)).state == "claimed"
    busy = await other.claim("email_sending:send:k1", "call-b", 60.0, 3600.0)
    assert busy.state == "busy" and 55 < busy.wait <= 60
    assert (await one.claim("email_sending:send:k1", "call-a", 60.0, 3600.0)).state == "claimed"


async def test_a_completed_key_returns_its_outcome_to_everyone(backend):
    one, other = backend.open(), backend.open()
    await one.claim("email_sending:send:k1", "call-a", 60.0, 3600.0)
    await one.complete("email_sending:send:k1", "call-a", '{"status":"ok"}', 3600.0)
    await one.flush()
    done = await other.claim("email_sending:send:k1", "call-b", 60.0, 3600.0)
    assert done.state == "done" and done.outcome == '{"status":"ok"}'


async def test_a_released_key_can_be_claimed_again_but_only_its_owner_releases(backend):
    one, other = backend.open(), backend.open()
    await one.claim("k", "call-a", 60.0, 3600.0)
    await other.release("k", "call-b")
    await other.flush()
    assert (await other.claim("k", "call-b", 60.0, 3600.0)).state == "busy"
    await one.release("k", "call-a")
    await one.flush()
    assert (await other.claim("k", "call-b", 60.0, 3600.0)).state == "claimed"


async def test_a_claim_whose_owner_stopped_expires_as_stale(backend):
    one, other = backend.open(), backend.open()
    await one.claim("k", "call-a", 0.2, 3600.0)
    await asyncio.sleep(0.3)  # the owner's lease passes without an outcome
    assert (await other.claim("k", "call-b", 60.0, 3600.0)).state == "stale"
    assert (await one.claim("k", "call-c", 60.0, 3600.0)).state == "busy"


async def test_an_outcome_round_trips_through_its_serialised_form():
    receipt = SendReceipt(message_id="<a@b>", provider_message_id="x1", accepted=("a@b.c",))
    outcome = Outcome(
        Status.OK,
        value=receipt,
        provider="smtp",
        attempts=(),
        call_id="c1",
        capability="email_sending",
        operation="send",
        idempotency_key="k",
    )
    back = load_outcome(dump_outcome(outcome), "email_sending", "send", "k")
    assert back == outcome


async def test_every_redis_key_has_a_ttl(tmp_path):
    need_redis()
    backend = Backend("redis", tmp_path)
    try:
        spec = ProviderSpec(threshold=1, rate=(5.0, 5.0), quotas=((5, 3600.0, "hour"),))
        store = backend.open()
        mine = store.provider("smtp", spec)
        await mine.permit()
        mine.failed(counted=True, cooldown=5.0, reason="down")
        await store.claim("k1", "a", 60.0, 3600.0)
        await store.claim("k2", "a", 60.0, 3600.0)
        await store.complete("k2", "a", "{}", 3600.0)
        await store.flush()
        assert await keys_without_ttl(backend.namespace) == []
    finally:
        await backend.close()


async def test_a_claim_may_carry_the_first_providers_permit_without_spending_twice(backend):
    store = backend.open()
    spec = ProviderSpec(quotas=((1, 86400.0, "day"),))
    first = store.provider("smtp", spec)
    assert (await store.claim("k", "call-a", 60.0, 3600.0, first)).state == "claimed"
    assert (await first.permit()).ok
    refused = await first.permit()
    assert not refused.ok and refused.kind == "quota"


async def test_a_claim_that_is_not_this_callers_takes_no_permit(backend):
    store = backend.open()
    spec = ProviderSpec(quotas=((1, 86400.0, "day"),))
    first = store.provider("smtp", spec)
    await store.claim("k", "call-a", 60.0, 3600.0)
    assert (await store.claim("k", "call-b", 60.0, 3600.0, first)).state == "busy"
    assert (await first.permit()).ok  # the day's one call is still there
