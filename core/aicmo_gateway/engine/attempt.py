"""Attempts on one provider: permits, limits, the per-attempt timeout, retries, classification.

:func:`try_slot` runs one provider for a call (its first attempt and any retries on it)
and reports what happened in a :class:`~aicmo_gateway.engine.context.SlotOutcome`; the
strategies decide what to do next. Every attempt, skip and health update goes through here.
The call's state and its attempt records are in :mod:`aicmo_gateway.engine.context`.

One vocabulary per question: what the chain does next is an :class:`Action` (``DONE``,
``SKIP``, ``RETRY``, ``FALLBACK``, ``STOP``), how the provider's part ended is a
:class:`Status` (``OK``, ``SIMULATED``, ``REJECTED``, ``UNCERTAIN``, ``FAILED``), and what
an error means is a :class:`~aicmo_gateway.engine.classify.Classification` in those words.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from loguru import logger as _loguru

from aicmo_gateway.engine.classify import Classification, classify
from aicmo_gateway.engine.clock import watchdog
from aicmo_gateway.engine.context import CallContext, SlotOutcome
from aicmo_gateway.engine.fleet import learn, report_failure
from aicmo_gateway.engine.health import BreakerState, Permit
from aicmo_gateway.engine.slot import ProviderSlot, invoke, performed
from aicmo_gateway.logs import add_call_context, enter_provider, leave
from aicmo_gateway.outcome import Action, Status
from aicmo_gateway.ports import Effect

__all__ = ["CallContext", "Failed", "SlotOutcome", "try_slot"]

_MAX_DETAIL = 500
#: every line carries the running call's capability, provider and call id
logger = _loguru.patch(add_call_context)
#: a failed probe while no other provider of the chain is closed re-opens for this many
#: times the usual open period: a chain down everywhere is probed half as often (each of its
#: providers would otherwise be probed at the single-provider cadence, multiplying the load)
ALL_DOWN_STRETCH = 2.0


def _call_refused(slot: ProviderSlot, ctx: CallContext, now: float) -> SlotOutcome:
    """The call itself cannot make another attempt: its deadline or attempt budget is spent."""
    if ctx.budget is not None and ctx.budget - (now - ctx.started) <= 0:
        return ctx.skip(slot, "the call's deadline passed", now)
    return ctx.skip(slot, "the call's attempt budget is spent", now)


def _acquire(
    slot: ProviderSlot, ctx: CallContext, now: float, forced: bool, last_resort: bool
) -> tuple[Permit | None, SlotOutcome | None]:
    """A health permit and a rate/quota token, or the reason there is none.

    A skip for calls in flight or for a breaker opened by slow calls alone is *soft*: the
    strategy comes back to the provider with ``last_resort`` when no other one could serve.
    """
    permit = None
    if not (forced or last_resort) and slot.inflight:
        stall = slot.stalled(now, ctx.policy.stall_calls, ctx.policy.stall_factor)
        if stall is not None:
            out = ctx.skip(slot, stall, now)
            out.soft = True
            return None, out
    if not forced:
        permit = slot.health.acquire(last_resort=last_resort, now=now)
        if permit is None:
            reason = slot.health.skip_reason() or "unavailable"
            out = ctx.skip(slot, reason, now)
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
                return None, SlotOutcome(
                    Action.SKIP, Status.FAILED, available_in=wait, limited=True
                )
            out = ctx.skip(slot, f"{why}; free again in {wait:.1f}s", now)
            out.available_in = wait
            return None, out
    return permit, None


#: an attempt that already failed on the chain's fast path, handed to :func:`try_slot`:
#: (its attempt number on the slot, its permit, the loop time it started, the error)
Failed = tuple[int, "Permit | None", float, BaseException]


async def try_slot(
    slot: ProviderSlot,
    ctx: CallContext,
    *,
    forced: bool = False,
    last_resort: bool = False,
    failed: Failed | None = None,
) -> SlotOutcome:
    """Run the call on one provider: the first attempt and any retries on it.

    ``last_resort``: no other provider can take the call, so soft skips (calls in flight,
    a breaker opened only by slow calls) do not apply. ``failed``: the first attempt was
    made (by the chain's fast path) and raised; go on from its failure.

    Once an attempt on a write was ambiguous, the result stays ambiguous whatever later
    retries here do: the write may have been performed.
    """
    token = enter_provider(slot.name)  # the provider's own lines name it and the call
    try:
        tries = 0
        ambiguous: SlotOutcome | None = None
        clock = ctx.clock
        while True:
            if failed is not None:
                serial, permit, t0, error = failed
                failed = None
                tries = 1
            else:
                t0 = clock()
                permit = None
                budget = ctx.budget
                if ctx.attempts_left > 0 and (budget is None or budget > t0 - ctx.started):
                    permit, out = _acquire(slot, ctx, t0, forced and tries == 0, last_resort)
                    if out is None and slot.shared is not None and not (forced and tries == 0):
                        out = await _fleet_permit(slot, ctx, permit)
                else:
                    out = _call_refused(slot, ctx, t0)
                if out is not None:
                    if out.limited and out.available_in is not None:
                        await asyncio.sleep(out.available_in)  # wait_for_limits, in the deadline
                        continue
                    return ambiguous or out
                if tries == 0:
                    slot.budget.record_call(t0)
                ctx.attempts_left -= 1
                tries += 1
                serial = slot.started(t0)
                # the attempt timeout, within the call's deadline
                timeout = ctx.policy.attempt_timeout
                if budget is not None:
                    left = max(0.0, budget - (t0 - ctx.started))
                    timeout = left if timeout is None else min(timeout, left)
                guard = watchdog(asyncio.get_running_loop()) if timeout is not None else None
                ticket = (
                    guard.watch(timeout, t0) if guard is not None and timeout is not None else 0
                )
                try:
                    value = await invoke(slot, ctx.op, ctx.payload, ctx.key)
                except asyncio.CancelledError:
                    if guard is not None and guard.done(ticket):
                        error = TimeoutError()  # the attempt timeout passed
                    else:
                        _abandoned(slot, ctx, serial, permit, t0)
                        raise
                except Exception as exc:
                    if guard is not None:
                        guard.done(ticket)
                    error = exc
                except BaseException:  # KeyboardInterrupt and the like: no ticket may outlive it
                    if guard is not None:
                        guard.done(ticket)
                    raise
                else:
                    if guard is not None:
                        guard.done(ticket)
                    return _answered(slot, ctx, serial, permit, t0, value)
            out, backoff = _failed(slot, ctx, serial, permit, t0, error, tries)
            if out.status is Status.UNCERTAIN:  # stays the answer unless a retry here answers
                ambiguous = SlotOutcome(Action.FALLBACK, Status.UNCERTAIN, reason=out.reason)
            if backoff is None:
                return ambiguous if ambiguous is not None and out.action is not Action.DONE else out
            await asyncio.sleep(backoff)
    finally:
        leave(token)


async def _fleet_permit(
    slot: ProviderSlot, ctx: CallContext, permit: Permit | None
) -> SlotOutcome | None:
    """The shared store's leave for this attempt (a shared store only): ``None`` when the
    fleet lets it go, else the skip (or the wait, for a limit the provider waits for)."""
    assert slot.shared is not None
    verdict = await slot.shared.permit()
    if verdict.ok:
        return None
    if permit is not None:
        slot.health.release(permit)
    learn(slot, verdict)
    wait = verdict.wait
    if verdict.kind in ("quota", "rate") and slot.policy.wait_for_limits:
        left = ctx.remaining()
        if left is None or wait < left:
            return SlotOutcome(Action.SKIP, Status.FAILED, available_in=wait, limited=True)
    out = ctx.skip(slot, f"the fleet: {verdict.reason or verdict.kind}; free in {wait:.1f}s")
    out.available_in = wait
    return out


def _answered(
    slot: ProviderSlot,
    ctx: CallContext,
    serial: int,
    permit: Permit | None,
    t0: float,
    value: Any,
) -> SlotOutcome:
    """The provider answered: feed its latency and health, record a ``DONE`` attempt."""
    now = ctx.clock()
    duration = now - t0
    slow = slot.is_slow(duration, ctx.policy.stall_factor)
    slot.finished(serial, duration, slow=slow)
    if permit is not None:
        slot.health.record(permit, ok=True, duration=duration, slow=slow, now=now)
    if slot.shared is not None:
        slot.shared.succeeded()
    status, reason = Status.OK, None
    if slot.type.simulates or not performed(value):
        status = Status.SIMULATED
        reason = f"{slot.name} ({slot.type.name}) did not perform the operation"
    if ctx.accept is not None and not ctx.accept(value):
        # an empty answer: the strategy asks the next provider and records this one later
        ctx.held = (slot, t0, duration)
        return SlotOutcome(Action.FALLBACK, status, value, reason)
    if ctx.notify is None:  # ctx.record, without its call
        ctx.attempts.append((slot, t0, duration, Action.DONE, None, None))
    else:
        ctx.record(slot, t0, duration, Action.DONE)
    return SlotOutcome(Action.DONE, status, value, reason)


def _abandoned(
    slot: ProviderSlot, ctx: CallContext, serial: int, permit: Permit | None, t0: float
) -> None:
    """The attempt was cancelled from outside (a hedge loser, the caller gave up)."""
    slot.finished(serial)
    if permit is None:
        return
    duration = ctx.clock() - t0
    if ctx.lost_race_after is not None and duration >= ctx.lost_race_after:
        # a hedge loser slower than the hedge delay: a slow, failed call
        slot.health.record(permit, ok=False, duration=duration)
    else:
        slot.health.release(permit)


def _failed(
    slot: ProviderSlot,
    ctx: CallContext,
    serial: int,
    permit: Permit | None,
    t0: float,
    exc: BaseException,
    tries: int,
) -> tuple[SlotOutcome, float | None]:
    """The attempt raised: classify it, settle health, record it, and decide what follows.

    Returns how the call went on this provider and, when it is retried here, the back-off
    to wait first (``None``: no retry).
    """
    slot.finished(serial)
    duration = ctx.clock() - t0
    meaning = classify(exc, overrides=slot.on_error_with(ctx.policy.on_error))
    if permit is not None:
        if meaning.is_failure:
            stretch = ALL_DOWN_STRETCH if permit.probe and _chain_down(slot, ctx) else 1.0
            slot.health.record(permit, ok=False, duration=duration, stretch=stretch)
        else:
            slot.health.release(permit)
    error = "TimeoutError" if isinstance(exc, TimeoutError) else type(exc).__name__
    # the provider's text enters the engine here, scrubbed once: every reason,
    # detail, cooldown, log line and state file below is derived from ``detail``
    detail = slot.scrub(_text_of(exc))[:_MAX_DETAIL]
    if meaning.cooldown is not None:
        slot.health.cool_down(meaning.cooldown, f"{error}: {detail}"[:200])
    if slot.shared is not None:
        report_failure(slot, meaning.is_failure, meaning.cooldown, f"{error}: {detail}"[:200])
    reason = f"{slot.name}: {error}: {detail}"
    if meaning.status is Status.REJECTED:
        ctx.record(slot, t0, duration, Action.STOP, error, detail)
        return SlotOutcome(Action.STOP, Status.REJECTED, reason=reason), None
    ambiguous = meaning.status is Status.UNCERTAIN and ctx.op.effect is Effect.WRITE
    backoff = _retry_backoff(slot, ctx, meaning, ambiguous, tries)
    status = Status.UNCERTAIN if ambiguous else Status.FAILED
    if backoff is not None:
        ctx.record(slot, t0, duration, Action.RETRY, error, detail)
        return SlotOutcome(Action.RETRY, status, reason=reason), backoff
    stop = meaning.action is Action.STOP
    ctx.record(slot, t0, duration, Action.STOP if stop else Action.FALLBACK, error, detail)
    ctx.reasons.append(reason)
    logger.info("{}.{}: {} failed ({}): {}", ctx.capability, ctx.op.name, slot.name, error, detail)
    if ambiguous:  # the strategy decides whether any other provider may try
        return SlotOutcome(Action.FALLBACK, Status.UNCERTAIN, reason=reason), None
    return SlotOutcome(Action.STOP if stop else Action.FALLBACK, status, reason=reason), None


def _chain_down(slot: ProviderSlot, ctx: CallContext) -> bool:
    """No other provider of the chain is closed: the whole chain is down, not just ``slot``."""
    others = [other for other in ctx.slots if other is not slot]
    return bool(others) and not any(_serving(other) for other in others)


def _serving(slot: ProviderSlot) -> bool:
    snap = slot.health.snapshot()
    return snap.state is BreakerState.CLOSED and snap.cooldown_until is None


def _retry_backoff(
    slot: ProviderSlot, ctx: CallContext, meaning: Classification, ambiguous: bool, tries: int
) -> float | None:
    """Seconds to wait before trying this provider again, or ``None`` for no retry.

    A retry needs the error's action (or ``on_error``) to say so within ``retries``, the
    call's attempt budget, the provider's retry budget and the deadline. An ambiguous write
    is retried only where the provider honours idempotency keys, once with the same key.
    """
    same_key_retry = ambiguous and slot.honours_idempotency and tries == 1
    wanted = (meaning.action is Action.RETRY and tries <= ctx.policy.retries) or same_key_retry
    if not wanted or (ambiguous and not slot.honours_idempotency) or ctx.attempts_left <= 0:
        return None
    if not slot.budget.try_spend():
        return None
    backoff = random.uniform(0, ctx.policy.retry_backoff * 2 ** (tries - 1))  # noqa: S311
    left = ctx.remaining()
    if left is not None and backoff >= left:
        return None
    return backoff


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
