"""Attempts on one provider: permits, limits, the per-attempt timeout, retries, classification.

:func:`try_slot` runs one provider for a call (its first attempt and any
retries on it) and reports what happened; the strategies decide what to do
next. Every attempt, skip and health update goes through here.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
from loguru import logger

from aicmo_gateway.engine.classify import Kind, Reaction, classify
from aicmo_gateway.engine.policy import ChainPolicy
from aicmo_gateway.engine.slot import ProviderSlot, invoke, performed
from aicmo_gateway.outcome import Action, Attempt, Status
from aicmo_gateway.ports import Effect, Operation

__all__ = ["CallContext", "Result", "SlotOutcome", "try_slot"]

_MAX_DETAIL = 500


class Result(enum.Enum):
    DONE = "done"  # the provider answered (value set)
    REJECTED = "rejected"  # invalid input: stop the call
    AMBIGUOUS = "ambiguous"  # a write may have been performed
    FAILED = "failed"  # not performed: another provider may try
    STOPPED = "stopped"  # an on_error rule said stop
    SKIPPED = "skipped"  # not tried (open breaker, cooling down, limits, budgets)


@attrs.define
class SlotOutcome:
    result: Result
    value: Any = None
    status: Status | None = None
    reason: str | None = None
    #: seconds until this provider could take the call, when skipped
    available_in: float | None = None
    #: skipped only for calls in flight or slowness (a demotion): usable as a last resort
    soft: bool = False
    #: held back by the rate limit or a quota, and the provider waits for it
    limited: bool = False


@attrs.define
class CallContext:
    """The state of one call as it moves through the chain."""

    capability: str
    op: Operation
    payload: Any
    key: str | None
    policy: ChainPolicy
    started: float  # loop time
    budget: float | None  # seconds for the whole call
    attempts_left: int
    notify: Callable[..., None]
    attempts: list[Attempt] = attrs.field(factory=list)
    reasons: list[str] = attrs.field(factory=list)
    #: set by hedge before cancelling losers: a loser running at least this long failed
    lost_race_after: float | None = None
    #: the running loop's clock (virtual under a virtual-time loop)
    clock: Callable[[], float] = attrs.field(factory=lambda: asyncio.get_running_loop().time)

    def remaining(self) -> float | None:
        if self.budget is None:
            return None
        return self.budget - (self.clock() - self.started)

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def skip(self, slot: ProviderSlot, reason: str) -> SlotOutcome:
        self.record(
            Attempt(slot.name, slot.type.name, datetime.now(UTC), 0.0, Action.SKIP, None, reason)
        )
        return SlotOutcome(Result.SKIPPED, reason=f"{slot.name}: skipped: {reason}")

    def record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        self.notify(
            "aicmo_attempt_finished",
            capability=self.capability,
            operation=self.op.name,
            attempt=attempt,
        )


def _timeout(ctx: CallContext) -> float | None:
    """Seconds this attempt may take: the attempt timeout, within the call's deadline."""
    per_attempt, left = ctx.policy.attempt_timeout, ctx.remaining()
    if left is None:
        return per_attempt
    left = max(0.0, left)
    return left if per_attempt is None else min(per_attempt, left)


def _acquire(
    slot: ProviderSlot, ctx: CallContext, forced: bool, last_resort: bool
) -> tuple[Any, SlotOutcome | None]:
    """A health permit and a rate/quota token, or the reason there is none.

    A skip for calls in flight or for a breaker opened by slow calls alone is *soft*: the
    strategy comes back to the provider with ``last_resort`` when no other one could serve.
    """
    permit = None
    if not (forced or last_resort):
        stall = slot.stalled(ctx.clock(), ctx.policy.stall_calls, ctx.policy.stall_factor)
        if stall is not None:
            out = ctx.skip(slot, stall)
            out.soft = True
            return None, out
    if not forced:
        permit = slot.health.acquire(last_resort=last_resort)
        if permit is None:
            reason = slot.health.skip_reason() or "unavailable"
            out = ctx.skip(slot, reason)
            out.available_in = slot.health.time_until_available()
            out.soft = slot.health.demoted()
            return None, out
    if slot.limits is not None:
        ok, wait, why = slot.limits.try_take()
        if not ok:
            if permit is not None:
                slot.health.release(permit)
            left = ctx.remaining()
            if slot.policy.wait_for_limits and (left is None or wait < left):
                # not a skip: the caller waits for the limit, then tries again
                return None, SlotOutcome(Result.SKIPPED, available_in=wait, limited=True)
            out = ctx.skip(slot, f"{why}; free again in {wait:.1f}s")
            out.available_in = wait
            return None, out
    return permit, None


async def try_slot(
    slot: ProviderSlot, ctx: CallContext, *, forced: bool = False, last_resort: bool = False
) -> SlotOutcome:
    """Run the call on one provider: the first attempt and any retries on it.

    ``last_resort``: no other provider can take the call, so soft skips (calls in flight,
    a breaker opened only by slow calls) do not apply.

    Once an attempt on a write was ambiguous, the result stays ambiguous whatever later
    retries here do: the write may have been performed.
    """
    ambiguous_box: list[SlotOutcome | None] = [None]
    out = await _try_slot(slot, ctx, forced, last_resort, ambiguous_box)
    earlier = ambiguous_box[0]
    if earlier is not None and out.result is not Result.DONE and out is not earlier:
        return earlier
    return out


async def _try_slot(
    slot: ProviderSlot,
    ctx: CallContext,
    forced: bool,
    last_resort: bool,
    ambiguous_box: list[SlotOutcome | None],
) -> SlotOutcome:
    overrides = {**ctx.policy.on_error, **slot.policy.on_error}
    tries = 0
    while True:
        if ctx.expired():
            return ctx.skip(slot, "the call's deadline passed")
        if ctx.attempts_left <= 0:
            return ctx.skip(slot, "the call's attempt budget is spent")
        permit, skipped = _acquire(slot, ctx, forced and tries == 0, last_resort)
        if skipped is not None:
            if skipped.limited and skipped.available_in is not None:
                await asyncio.sleep(skipped.available_in)  # wait_for_limits, within the deadline
                continue
            return skipped
        if tries == 0:
            slot.budget.record_call()
        ctx.attempts_left -= 1
        tries += 1
        started_at, t0 = datetime.now(UTC), ctx.clock()
        serial = slot.started(t0)
        try:
            async with asyncio.timeout(_timeout(ctx)):
                value = await invoke(slot, ctx.op, ctx.payload, ctx.key)
        except asyncio.CancelledError:
            slot.finished(serial)
            duration = ctx.clock() - t0
            if permit is not None:
                lost = ctx.lost_race_after is not None and duration >= ctx.lost_race_after
                if lost:  # a hedge loser slower than the hedge delay: a slow, failed call
                    slot.health.record(permit, ok=False, duration=duration)
                else:
                    slot.health.release(permit)
            raise
        except Exception as exc:
            slot.finished(serial)
            duration = ctx.clock() - t0
            verdict = classify(exc, overrides=overrides)
            if permit is not None:
                if verdict.is_failure:
                    slot.health.record(permit, ok=False, duration=duration)
                else:
                    slot.health.release(permit)
            error = "TimeoutError" if isinstance(exc, TimeoutError) else type(exc).__name__
            # the provider's text enters the engine here, scrubbed once: every reason,
            # detail, cooldown, log line and state file below is derived from ``detail``
            detail = slot.scrub(_text_of(exc))[:_MAX_DETAIL]
            if verdict.cooldown is not None:
                slot.health.cool_down(verdict.cooldown, f"{error}: {detail}"[:200])
            reason = f"{slot.name}: {error}: {detail}"
            ambiguous = verdict.kind is Kind.AMBIGUOUS and ctx.op.effect is Effect.WRITE
            if verdict.kind is Kind.REJECTED:
                ctx.record(
                    Attempt(
                        slot.name, slot.type.name, started_at, duration, Action.STOP, error, detail
                    )
                )
                return SlotOutcome(Result.REJECTED, status=Status.REJECTED, reason=reason)
            # an ambiguous write may be retried here with the same key, where it is honoured
            same_key_retry = ambiguous and slot.honours_idempotency and tries == 1
            retry = (
                (
                    (verdict.reaction is Reaction.RETRY and tries <= ctx.policy.retries)
                    or same_key_retry
                )
                and (not ambiguous or slot.honours_idempotency)
                and ctx.attempts_left > 0
                and slot.budget.try_spend()
            )
            if retry:
                backoff = random.uniform(0, ctx.policy.retry_backoff * 2 ** (tries - 1))  # noqa: S311
                left = ctx.remaining()
                if left is not None and backoff >= left:
                    retry = False
            if ambiguous:
                ambiguous_box[0] = SlotOutcome(
                    Result.AMBIGUOUS, status=Status.UNCERTAIN, reason=reason
                )
            if retry:
                ctx.record(
                    Attempt(
                        slot.name, slot.type.name, started_at, duration, Action.RETRY, error, detail
                    )
                )
                await asyncio.sleep(backoff)
                continue
            stop = verdict.reaction is Reaction.STOP
            ctx.record(
                Attempt(
                    slot.name,
                    slot.type.name,
                    started_at,
                    duration,
                    Action.STOP if stop else Action.FALLBACK,
                    error,
                    detail,
                )
            )
            ctx.reasons.append(reason)
            logger.bind(capability=ctx.capability, provider=slot.name).info(
                "{}.{}: {} failed ({}): {}", ctx.capability, ctx.op.name, slot.name, error, detail
            )
            if ambiguous:
                return SlotOutcome(Result.AMBIGUOUS, status=Status.UNCERTAIN, reason=reason)
            if stop:
                return SlotOutcome(Result.STOPPED, status=Status.FAILED, reason=reason)
            return SlotOutcome(Result.FAILED, reason=reason)
        duration = ctx.clock() - t0
        slow = slot.is_slow(duration, ctx.policy.stall_factor)
        slot.finished(serial, duration, slow=slow)
        if permit is not None:
            slot.health.record(permit, ok=True, duration=duration, slow=slow)
        ctx.record(Attempt(slot.name, slot.type.name, started_at, duration, Action.DONE))
        if slot.type.simulates or not performed(value):
            return SlotOutcome(
                Result.DONE,
                value,
                Status.SIMULATED,
                f"{slot.name} ({slot.type.name}) did not perform the operation",
            )
        return SlotOutcome(Result.DONE, value, Status.OK)


def _text_of(exc: BaseException) -> str:
    """The exception's text, or a description when it has none (or cannot say it)."""
    try:
        text = str(exc)
    except Exception:  # a provider's exception whose __str__ fails
        text = ""
    if text:
        return text
    if isinstance(exc, TimeoutError):
        return "the attempt timed out"
    return type(exc).__name__
