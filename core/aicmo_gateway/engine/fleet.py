"""Where the engine meets the shared store (``[gateway] store`` other than ``"memory"``).

The engine's in-process objects stay the fast local view; the store is asked only where
the fleet must agree: before an attempt (:func:`fleet_permit` in the attempt loop: an
open breaker, a cooldown, a quota), after it (:func:`report_failure`, and a success in
:mod:`aicmo_gateway.engine.attempt`), and around a write with a key (:func:`once_shared`:
one process performs it, the others get its outcome). With the memory store none of this
runs: ``slot.shared`` and ``chain.shared`` are ``None``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.engine.provider_policy import ProviderPolicy
from aicmo_gateway.outcome import Outcome, Status
from aicmo_gateway.plugins.provider_type import PERIODS
from aicmo_gateway.ports import Operation
from aicmo_gateway.state.health import BreakerState
from aicmo_gateway.state.store import ProviderSpec, ProviderState, Verdict
from aicmo_gateway.state.store.outcomes import dump_outcome, load_outcome

if TYPE_CHECKING:
    from aicmo_gateway.engine.chain import Chain
    from aicmo_gateway.engine.slot import ProviderSlot

__all__ = ["learn", "once_shared", "report_failure", "spec_for"]

#: how long a claim on a key holds off other processes when the call sets no deadline
CLAIM_LEASE = 300.0
#: how long a call waits for another process performing the same key, without a deadline
CLAIM_WAIT = 30.0


def spec_for(policy: ProviderPolicy) -> ProviderSpec:
    """The rules the store applies to a provider, from its policy."""
    health = policy.health
    threshold = health.consecutive_failures
    rate = policy.rate_limit
    return ProviderSpec(
        threshold=None if threshold is None else max(threshold, 1),
        open_seconds=health.open_seconds,
        open_multiplier=health.open_multiplier,
        open_max_seconds=health.open_max_seconds,
        rate=(rate.per_second, float(rate.burst)) if rate is not None else None,
        quotas=tuple((q.limit, PERIODS[q.period], q.period) for q in policy.quotas),
    )


def learn(slot: ProviderSlot, verdict: Verdict) -> None:
    """The fleet refused the provider for a while: the local view refuses it too, so this
    process's next calls skip it without asking the store."""
    if verdict.kind in ("open", "cooldown") and verdict.wait > 0:
        slot.health.cool_down(verdict.wait, f"the fleet: {verdict.reason or verdict.kind}")


def report_failure(slot: ProviderSlot, counted: bool, cooldown: float | None, text: str) -> None:
    """Tell the fleet an attempt failed; publish this process's trip when its breaker opened."""
    shared = slot.shared
    if shared is None or not (counted or cooldown is not None):
        return
    open_for = None
    if counted:
        snap = slot.health.snapshot()
        if snap.state is BreakerState.OPEN and not snap.demoted and snap.open_until is not None:
            open_for = max(snap.open_until - snap.at, 0.0)
    shared.failed(counted=counted, cooldown=cooldown, reason=text, open_for=open_for)


def _claim_terms(chain: Chain, deadline: float | None) -> tuple[float, float]:
    limit = deadline if deadline is not None else chain.policy.deadline
    if limit is None:
        return CLAIM_LEASE, CLAIM_WAIT
    return limit + 60.0, limit


async def once_shared(
    chain: Chain,
    op: Operation,
    payload: Any,
    call_id: str,
    key: str,
    deadline: float | None,
) -> Outcome:
    """A write with a key across the fleet: performed by one process, the others get its
    recorded outcome (waiting for it, bounded, while it is performed).

    A claim whose process stopped before recording an outcome (its lease ran out) may have
    been performed: it is sent again only when every provider of the chain honours
    idempotency keys; otherwise the call ends ``UNCERTAIN`` (the outbox holds it for a
    decision), as the outbox treats an interrupted write.
    """
    store = chain.shared
    assert store is not None
    entry = f"{chain.capability}:{op.name}:{key}"
    lease, bound = _claim_terms(chain, deadline)
    ttl = chain.ledger.ttl
    clock = asyncio.get_running_loop().time
    give_up, delay = clock() + bound, 0.01
    first = _likely_first(chain)
    while True:
        claim = await store.claim(entry, call_id, lease, ttl, first)
        if claim.state == "done" and claim.outcome is not None:
            try:
                done = load_outcome(claim.outcome, chain.capability, op.name, key)
            except (ValueError, TypeError, KeyError):
                done = _unreadable(chain, op, key)
            chain.ledger.record(done)
            return attrs.evolve(done, call_id=call_id, attempts=(), replayed_from=done.call_id)
        if claim.state != "busy":
            break
        left = give_up - clock()
        if left <= 0:
            return _waited_too_long(chain, op, call_id, key, bound)
        await asyncio.sleep(min(delay, claim.wait, left))
        delay = min(delay * 2, 0.25)
    if claim.state == "stale" and not chain.honours_idempotency:
        await store.release(entry, call_id)
        outcome = _unattempted(
            chain,
            op,
            Status.UNCERTAIN,
            call_id,
            key,
            "a process performing this key stopped before recording its outcome "
            "(its claim expired): it may have been performed, and not every provider "
            "honours idempotency keys, so it is not sent again blindly",
        )
        if chain.on_write_end is not None:
            outcome = await chain.on_write_end(outcome, payload)
        return outcome
    outcome = await chain._perform(op, payload, call_id, key, deadline)
    if chain.on_write_end is not None:
        outcome = await chain.on_write_end(outcome, payload)
    if outcome.status is Status.OK:
        chain.ledger.record(outcome)
        if claim.state != "local":
            await store.complete(entry, call_id, dump_outcome(outcome), ttl)
    elif claim.state != "local":
        await store.release(entry, call_id)
    return outcome


def _likely_first(chain: Chain) -> ProviderState | None:
    """The provider a failover call will most likely try first (its local view lets it), so
    the claim can carry its permit; ``None`` for the strategies that try several at once."""
    if chain.policy.strategy not in ("failover", "waterfall"):
        return None
    for slot in chain.ordered():
        if slot.health.time_until_available() > 0:
            continue
        if slot.limits is not None and slot.limits.wait_time()[0] > 0:
            continue
        return slot.shared
    return None


def _unreadable(chain: Chain, op: Operation, key: str) -> Outcome:
    return _unattempted(
        chain,
        op,
        Status.OK,
        "",
        key,
        "performed by another process; its recorded answer could not be read",
    )


def _waited_too_long(chain: Chain, op: Operation, call_id: str, key: str, bound: float) -> Outcome:
    return _unattempted(
        chain,
        op,
        Status.UNCERTAIN,
        call_id,
        key,
        f"another process is performing this key and did not finish within "
        f"{bound:g}s; not performed here (call again with the key for its outcome)",
    )


def _unattempted(
    chain: Chain, op: Operation, status: Status, call_id: str, key: str, reason: str
) -> Outcome:
    """The outcome of a call this process decided from the shared ledger, without an attempt."""
    return Outcome(
        status,
        value=None,
        provider=None,
        attempts=(),
        call_id=call_id,
        capability=chain.capability,
        operation=op.name,
        idempotency_key=key,
        reason=reason,
    )
