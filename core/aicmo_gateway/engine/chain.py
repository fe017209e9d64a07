"""One capability's chain: plan the providers, run the strategy, keep the ledger and audit.

A call goes: ledger (a completed key returns its recorded outcome) -> plan
(configured order, or healthiest first) -> strategy (failover, waterfall,
fanout, hedge) -> outcome, recorded in the audit trail and handed to observers.
How each failure is treated is in :mod:`aicmo_gateway.engine.classify`; attempts on
one provider (permits, limits, timeouts, retries) are in :mod:`aicmo_gateway.engine.attempt`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
from loguru import logger as _loguru

from aicmo_gateway.engine import fast
from aicmo_gateway.engine.context import CallContext
from aicmo_gateway.engine.fast import ATTEMPT_FINISHED, outcome_of
from aicmo_gateway.engine.fleet import once_shared
from aicmo_gateway.engine.keys import derive_idempotency_key
from aicmo_gateway.engine.ledger import MemoryLedger, entry_of
from aicmo_gateway.engine.policy import ChainPolicy
from aicmo_gateway.engine.slot import ProviderSlot
from aicmo_gateway.engine.strategies import Final, failover, fanout, hedge
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.logs import add_call_context, enter_call, leave
from aicmo_gateway.outcome import CallRecord, Outcome, Status
from aicmo_gateway.ports import Effect, Operation, PortSpec
from aicmo_gateway.state.audit import AuditTrail
from aicmo_gateway.state.store import SharedState

__all__ = ["Chain", "PlanStep", "ProviderSlot", "derive_idempotency_key"]

#: an untried provider ranks with the healthy ones, so it gets tried and its latency learnt
_HEALTH_RANK = {"healthy": 0, "unknown": 0, "degraded": 1, "unhealthy": 2}


@attrs.frozen
class PlanStep:
    """One provider in a dry run's plan: would it be tried, and if not, why."""

    provider: str
    would_try: bool
    reason: str = ""


#: every line carries the running call's capability, provider and call id
logger = _loguru.patch(add_call_context)
_READ = Effect.READ


def _when(wait: float) -> str:
    if math.isinf(wait):
        return "available when the probe in flight finishes"
    return f"available in {wait:.1f}s"


class Chain:
    """The providers of one capability, their order and the strategy over them."""

    def __init__(
        self,
        spec: PortSpec,
        slots: Sequence[ProviderSlot],
        *,
        policy: ChainPolicy | None = None,
        notify: Callable[..., None] | None = None,
        prepare: Callable[[str, Any, str | None], Any] | None = None,
        ledger: MemoryLedger | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        self.spec = spec
        self.capability = spec.capability
        #: the port's operations by name (looked up on every call)
        self._operations = {op.name: op for op in spec.operations}
        #: per operation: its writes' ledger entries without the key (``entry_of`` ends in it)
        self._entry_heads = {
            op.name: entry_of(spec.capability, op.name, "") for op in spec.operations
        }
        self.slots = list(slots)
        self.policy = policy if policy is not None else ChainPolicy()
        self._notify = notify or (lambda hook, **kw: None)
        #: ``notify.observes(hook)``, when the notifier can say whether anyone listens: a
        #: hook nobody observes is not called (its records are still built for the outcome)
        self._asks: Callable[[str], bool] = getattr(
            notify, "observes", (lambda hook: True) if notify else (lambda hook: False)
        )
        #: the answers, asked once (observers are registered once discovery is over)
        self._observed: dict[str, bool] = {}
        #: adapts the payload before sending (e.g. a Message-ID from the idempotency key)
        self._prepare = prepare or (lambda op, payload, key: payload)
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self.audit = audit if audit is not None else AuditTrail()
        #: sees every write's outcome before the ledger and may replace it (the outbox defers)
        self.on_write_end: Callable[[Outcome, Any], Awaitable[Outcome]] | None = None
        #: the store the fleet shares (``None``: the memory store, this process alone)
        self.shared: SharedState | None = None

    @property
    def honours_idempotency(self) -> bool:
        """Whether every provider a call may use honours idempotency keys, so a write
        interrupted at an unknown point may be sent again with its key without a duplicate."""
        return bool(self.slots) and all(slot.honours_idempotency for slot in self.slots)

    def _observes(self, hook: str) -> bool:
        known = self._observed.get(hook)
        if known is None:
            known = self._observed[hook] = self._asks(hook)
        return known

    def ordered(self) -> list[ProviderSlot]:
        """The providers in the order a call tries them."""
        if self.policy.order != "health":
            return list(self.slots)

        def rank(item: tuple[int, ProviderSlot]) -> tuple[int, float, int]:
            index, slot = item
            snap = slot.health.snapshot()
            latency = snap.ewma_latency if snap.ewma_latency is not None else 0.0
            return (_HEALTH_RANK.get(str(snap.health.value), 1), latency, index)

        return [slot for _, slot in sorted(enumerate(self.slots), key=rank)]

    def plan(self) -> list[PlanStep]:
        """What a call would do now, without doing it: who is tried, who is skipped and why."""
        steps = []
        last: list[PlanStep] = []  # demoted for slow calls: tried after the others
        for slot in self.ordered():
            wait = slot.health.time_until_available()
            demoted = wait > 0 and slot.health.demoted()
            if wait > 0 and not demoted:
                snap = slot.health.snapshot()
                steps.append(
                    PlanStep(
                        slot.name,
                        False,
                        f"{snap.reason or snap.health.value}; {_when(wait)}",
                    )
                )
                continue
            if slot.limits is not None:
                limit_wait, why = slot.limits.wait_time()
                if limit_wait > 0:
                    steps.append(PlanStep(slot.name, False, f"{why}; free in {limit_wait:.1f}s"))
                    continue
            if demoted:
                reason = slot.health.skip_reason() or "demoted for slow calls"
                last.append(PlanStep(slot.name, True, reason))
            else:
                steps.append(PlanStep(slot.name, True))
        return steps + last

    async def call(
        self,
        operation: str,
        payload: Any,
        *,
        idempotency_key: str | None = None,
        dry_run: bool = False,
        deadline: float | None = None,
    ) -> Outcome:
        """Perform ``operation`` with ``payload`` through the chain; the call's outcome."""
        return await self.run(operation, payload, idempotency_key, dry_run, deadline)

    #: the common call in one frame; the rest through :meth:`_general` (see :mod:`.fast`)
    run = fast.run

    async def _general(
        self,
        op: Operation,
        payload: Any,
        call_id: str,
        key: str | None,
        dry_run: bool,
        deadline: float | None,
        started_at: float,
        t0: float,
    ) -> Outcome:
        """Every call the fast path does not take: dry runs, the ledger's repeats and waits,
        other strategies and orders, the shared store, observed attempts, providers that
        are open, cooling down, limited or stalled."""
        token = enter_call(self.capability, call_id)
        try:
            if dry_run:
                outcome = self._dry_run(op, call_id, key)
            elif key is not None and op.effect is not _READ:
                outcome = await self._once(op, payload, call_id, key, deadline)
            else:
                outcome = await self._perform(op, payload, call_id, key, deadline)
        finally:
            leave(token)
        self._finished(outcome, asyncio.get_running_loop().time() - t0, started_at, dry_run)
        return outcome

    def _finished(
        self, outcome: Outcome, duration: float, started_at: float, dry_run: bool
    ) -> None:
        """Log a failed call, keep it in the audit trail and tell ``aicmo_call_finished``."""
        status = outcome.status
        if status is Status.FAILED or status is Status.UNCERTAIN:  # worth a warning
            last = outcome.attempts[-1].provider if outcome.attempts else "-"
            call_id = outcome.call_id
            logger.bind(
                capability=self.capability, provider=outcome.provider or last, call_id=call_id
            ).warning(
                "{}.{} ended {} (call {}): {}",
                self.capability,
                outcome.operation,
                status.value,
                call_id,
                outcome.reason,
            )
        observed = self._observed.get("aicmo_call_finished")
        if observed is None:
            observed = self._observes("aicmo_call_finished")
        if observed:
            record = CallRecord(outcome, datetime.fromtimestamp(started_at, UTC), duration, dry_run)
            self.audit.add(record)
            self._notify("aicmo_call_finished", call=record)
        else:  # nobody is told: the audit trail builds the record if it is ever read
            self.audit.add_call(outcome, started_at, duration, dry_run)

    async def _once(
        self,
        op: Operation,
        payload: Any,
        call_id: str,
        key: str,
        deadline: float | None,
    ) -> Outcome:
        """A write with a key: performed once; a key already done returns its outcome."""
        ledger, entry = self.ledger, entry_of(self.capability, op.name, key)
        if not ledger.try_claim(entry):  # another call performs this key: wait for it
            await ledger.wait_claim(entry)
        try:
            done = ledger.get(self.capability, op.name, key)
            if done is not None:
                return attrs.evolve(done, call_id=call_id, attempts=(), replayed_from=done.call_id)
            if self.shared is not None:  # a fleet: the shared ledger says who performs it
                return await once_shared(self, op, payload, call_id, key, deadline)
            outcome = await self._perform(op, payload, call_id, key, deadline)
            if self.on_write_end is not None:
                outcome = await self.on_write_end(outcome, payload)
            ledger.record(outcome, entry)
            return outcome
        finally:
            ledger.release(entry)

    def _dry_run(self, op: Operation, call_id: str, key: str | None) -> Outcome:
        steps = self.plan()
        tried = [s.provider + (" (last resort)" if s.reason else "") for s in steps if s.would_try]
        skipped = [f"{s.provider} ({s.reason})" for s in steps if not s.would_try]
        reason = "dry run: would try " + (", then ".join(tried) or "no provider")
        if skipped:
            reason += "; would skip " + ", ".join(skipped)
        return Outcome(
            Status.SIMULATED,
            value=steps,
            provider=None,
            attempts=(),
            call_id=call_id,
            capability=self.capability,
            operation=op.name,
            idempotency_key=key,
            reason=reason + "; nothing was performed",
        )

    async def _perform(
        self,
        op: Operation,
        payload: Any,
        call_id: str,
        key: str | None,
        deadline: float | None,
    ) -> Outcome:
        try:
            payload = self._prepare(op.name, payload, key)
        except InvalidInput as exc:
            # input no provider could take: rejected before any provider is tried,
            # so no attempt, no fallback and nothing counted against any breaker
            where = f" ({exc.field})" if exc.field else ""
            return Outcome(
                Status.REJECTED,
                value=None,
                provider=None,
                attempts=(),
                call_id=call_id,
                capability=self.capability,
                operation=op.name,
                idempotency_key=key,
                reason=f"invalid input{where}: {exc}",
            )
        policy = self.policy
        slots = self.slots if policy.order != "health" else self.ordered()
        started = asyncio.get_running_loop().time()
        ctx = self._context(
            op, payload, key, started, deadline if deadline is not None else policy.deadline
        )
        final: Final
        if policy.strategy == "fanout" and op.effect is not Effect.READ:
            done_before = self._fanout_done(op, key)
            final = await fanout(slots, ctx, done_before)
            self._fanout_record(op, key, call_id, final, done_before)
        elif policy.strategy == "hedge":
            final = await hedge(slots, ctx)
        else:
            final = await failover(slots, ctx, waterfall=policy.strategy == "waterfall")
        return outcome_of(final, ctx, call_id, self.capability, op.name, key)

    def _context(
        self, op: Operation, payload: Any, key: str | None, started: float, budget: float | None
    ) -> CallContext:
        """The state of a call that started at loop time ``started``, for the strategies."""
        policy = self.policy
        clock = asyncio.get_running_loop().time
        return CallContext(
            self.capability,
            op,
            payload,
            key,
            policy,
            started,
            budget,
            policy.max_attempts or len(self.slots) * (1 + policy.retries) + 1,
            self._notify
            if self._observed.get(ATTEMPT_FINISHED, True) and self._observes(ATTEMPT_FINISHED)
            else None,
            clock,
            self.slots,
            (time.time(), started),
        )

    def _fanout_done(self, op: Operation, key: str | None) -> dict[str, Any]:
        if key is None:
            return {}
        done = {}
        for slot in self.slots:
            previous = self.ledger.get(self.capability, op.name, f"{key}@{slot.name}")
            if previous is not None:
                done[slot.name] = previous.value
        return done

    def _fanout_record(
        self,
        op: Operation,
        key: str | None,
        call_id: str,
        final: Final,
        done_before: dict[str, Any],
    ) -> None:
        if key is None or not isinstance(final.value, dict):
            return
        for name, value in final.value.items():
            if name in done_before:
                continue
            self.ledger.record(
                Outcome(
                    Status.OK,
                    value=value,
                    provider=name,
                    attempts=(),
                    call_id=call_id,
                    capability=self.capability,
                    operation=op.name,
                    idempotency_key=f"{key}@{name}",
                )
            )
