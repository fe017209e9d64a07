"""The common call, in one frame: a chain's fast path (:meth:`Chain.run`).

Most calls are a failover chain in configured order whose first provider answers. This
path makes the general path's decisions and records for them (the ledger's claim, health,
the retry budget, the watchdog's deadline, the slow-call rule, the attempt as recorded, the
audit entry) with one coroutine frame between the facade and the provider instead of five,
and without the strategies' call context, permits and per-step records. Anything else goes
through :meth:`Chain._general` before anything is done, and a first attempt that raises is
handed over to the general path (:func:`_after_failure`), which goes on from it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
import uuid
from typing import TYPE_CHECKING, Any

from aicmo_gateway.engine.attempt import Failed, try_slot
from aicmo_gateway.engine.clock import watchdog
from aicmo_gateway.engine.context import CallContext, build_attempts
from aicmo_gateway.engine.keys import derive_idempotency_key
from aicmo_gateway.engine.slot import _shape, performed
from aicmo_gateway.engine.strategies import Final, failover
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.logs import CALL_CONTEXT
from aicmo_gateway.outcome import Action, Outcome, Status, deferred_outcome
from aicmo_gateway.ports import Effect, Operation

if TYPE_CHECKING:
    from aicmo_gateway.engine.chain import Chain

__all__ = ["ATTEMPT_FINISHED", "outcome_of", "run"]

get_running_loop = asyncio.get_running_loop
_READ = Effect.READ
_OK = Status.OK
_DONE = Action.DONE
#: the hook whose observers see every attempt (then calls take the general path)
ATTEMPT_FINISHED = "aicmo_attempt_finished"
_CALL_FINISHED = "aicmo_call_finished"
#: the fast path's note that the payload was refused before any provider (InvalidInput)
_REJECTED = object()
#: call ids: unique across processes (a random prefix per process) and cheap (a counter
#: from 2**64, whose ``hex`` past its ``0x1`` is the 16 digits of the call's number)
_CALL_PREFIX = uuid.uuid4().hex[:16]
_CALLS = itertools.count(1 << 64 | 1)


async def run(
    self: Chain,
    operation: str,
    payload: Any,
    idempotency_key: str | None,
    dry_run: bool,
    deadline: float | None,
) -> Outcome:
    """:meth:`Chain.call` with positional arguments (the facade's way in).

    The common case takes a fast path in this one frame: a failover chain in
    configured order with no shared store, whose first provider (async, with no rate
    limit or quota) is closed, not cooling down and not stalled, and nobody observes
    attempts. It makes the same decisions and records as the general path; a failed
    attempt hands the call over to it (:func:`_after_failure`), and a call that does
    not fit takes it from the start (:meth:`Chain._general`), before anything is done.
    """
    op = self._operations.get(operation) or self.spec.operation(operation)
    call_id = _CALL_PREFIX + hex(next(_CALLS))[3:]
    loop = get_running_loop()
    clock = loop.time
    started_at, t0 = time.time(), clock()
    write = op.effect is not _READ
    key = idempotency_key
    if key is None and write:
        key = derive_idempotency_key(self.capability, operation, payload)
    policy, slots = self.policy, self.slots
    budget = deadline if deadline is not None else policy.deadline
    observed = self._observed.get(ATTEMPT_FINISHED)
    if observed is None:
        observed = self._observes(ATTEMPT_FINISHED)
    if (
        dry_run
        or observed
        or not slots
        or policy.strategy != "failover"
        or policy.order == "health"
        or self.shared is not None
        or op.batch_of is not None
        or (budget is not None and budget <= 0)
    ):
        return await self._general(op, payload, call_id, key, dry_run, deadline, started_at, t0)
    slot = slots[0]
    method: Any = getattr(slot.provider, op.name, None)
    target = getattr(method, "__func__", method)
    try:
        is_async, takes_key = _shape(target)
    except TypeError:  # an unhashable callable, or none (the attempt reports it)
        is_async = False
    if (
        not is_async
        or slot.limits is not None
        or slot.shared is not None
        or (slot.inflight and slot.stalled(t0, policy.stall_calls, policy.stall_factor))
    ):
        return await self._general(op, payload, call_id, key, dry_run, deadline, started_at, t0)
    capability, ledger = self.capability, self.ledger
    entry = ""  # a write's claim in the ledger (capability, operation and key as one)
    if write:
        entry = self._entry_heads[op.name] + (key or "")  # entry_of: a write has its key here
        if not ledger.claim_new(entry):  # done before, or in flight: the ledger decides
            return await self._general(op, payload, call_id, key, dry_run, deadline, started_at, t0)
    health = slot.health
    try:
        sent = self._prepare(op.name, payload, key)
    except InvalidInput:
        sent = _REJECTED
    generation = health.enter() if sent is not _REJECTED else None
    if generation is None:  # rejected input, or not closed: the general path says so
        if write:
            ledger.release(entry)
        return await self._general(op, payload, call_id, key, dry_run, deadline, started_at, t0)
    token = CALL_CONTEXT.set((capability, slot.name, call_id))
    try:
        slot.budget.record_call(t0)
        serial = slot.started(t0)
        timeout = policy.attempt_timeout
        if budget is not None:
            timeout = budget if timeout is None else min(timeout, budget)
        guard, ticket = None, 0
        if timeout is not None:
            guard = watchdog(loop)
            ticket = guard.watch(timeout, t0)
        error: BaseException | None = None
        try:
            if key is not None and takes_key:
                value = await method(sent, idempotency_key=key)
            else:
                value = await method(sent)
        except asyncio.CancelledError:
            if guard is None or not guard.done(ticket):  # cancelled from outside
                slot.finished(serial)
                health.leave()
                raise
            error = TimeoutError()  # the attempt timeout passed
        except Exception as exc:
            if guard is not None:
                guard.done(ticket)
            error = exc
        except BaseException:  # KeyboardInterrupt and the like: no ticket may outlive it
            if guard is not None:
                guard.done(ticket)
            slot.finished(serial)
            health.leave()
            raise
        else:
            if guard is not None:
                guard.done(ticket)
        if error is None:
            now = clock()
            duration = now - t0
            typical = slot.typical_latency
            slow = (
                typical is not None and duration > 0.05 and duration > policy.stall_factor * typical
            )
            slot.finished(serial, duration, slow)
            health.settle_ok(generation, duration, slow, now)
            status, reason = _OK, None
            if slot.type.simulates or not performed(value):
                status = Status.SIMULATED
                reason = f"{slot.name} ({slot.type.name}) did not perform the operation"
            attempts = [(slot, t0, duration, _DONE, None, None)]
            outcome = deferred_outcome(
                status,
                value,
                slot.name,
                functools.partial(build_attempts, attempts, (started_at, t0)),
                call_id,
                capability,
                op.name,
                key,
                reason,
            )
        else:
            failed = (serial, health.adopt(generation, t0), t0, error)
            outcome = await _after_failure(self, op, sent, call_id, key, budget, t0, failed)
        if write:
            if self.on_write_end is not None:
                CALL_CONTEXT.set((capability, "-", call_id))  # no provider's any more (reset below)
                outcome = await self.on_write_end(outcome, payload)
            if outcome.status is _OK:  # claimed new above: nothing recorded for it yet
                ledger.record_new(entry, outcome)
    finally:
        CALL_CONTEXT.reset(token)
        if write:
            ledger.release(entry)
    status = outcome.status
    if (status is _OK or status is Status.SIMULATED) and not self._observed.get(
        _CALL_FINISHED, True
    ):  # nothing to log, nobody to tell: the audit trail keeps the parts
        self.audit.add_call(outcome, started_at, clock() - t0)
    else:
        self._finished(outcome, clock() - t0, started_at, False)
    return outcome


async def _after_failure(
    self: Chain,
    op: Operation,
    payload: Any,
    call_id: str,
    key: str | None,
    budget: float | None,
    started: float,
    failed: Failed,
) -> Outcome:
    """The fast path's first attempt failed: the general path goes on from there (retries
    on that provider, then the next ones), as if it had made that attempt itself."""
    token = CALL_CONTEXT.set((self.capability, "-", call_id))
    try:
        ctx = self._context(op, payload, key, started, budget)
        ctx.attempts_left -= 1
        slots = self.slots
        first = await try_slot(slots[0], ctx, failed=failed)
        final = await failover(slots, ctx, first=first)
        return outcome_of(final, ctx, call_id, self.capability, op.name, key)
    finally:
        CALL_CONTEXT.reset(token)


def outcome_of(
    final: Final, ctx: CallContext, call_id: str, capability: str, operation: str, key: str | None
) -> Outcome:
    """The call's outcome from how its strategy ended; its attempts are built when someone
    reads them (audit, explain, the caller)."""
    reason = final.reason if final.status is not Status.OK else None
    if final.status is Status.SIMULATED:
        reason = final.reason
    return deferred_outcome(
        final.status,
        final.value,
        final.provider,
        ctx.deferred_attempts(),
        call_id,
        capability,
        operation,
        key,
        reason,
    )
