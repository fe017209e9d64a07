"""The strategies: failover and waterfall (one provider after another), fanout, hedge."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

import attrs

from aicmo_gateway.engine.attempt import try_slot
from aicmo_gateway.engine.context import CallContext, SlotOutcome
from aicmo_gateway.engine.slot import ProviderSlot, is_empty
from aicmo_gateway.outcome import Action, Status
from aicmo_gateway.ports import Effect

__all__ = ["Final", "failover", "fanout", "hedge"]

#: a provider's part that produced an answer (performed, or honestly not)
_ANSWERED = frozenset({Status.OK, Status.SIMULATED})


@attrs.define
class Final:
    """How a strategy ended: the status, value, serving provider and reason."""

    status: Status
    value: Any = None
    provider: str | None = None
    reason: str | None = None


async def failover(
    slots: Sequence[ProviderSlot],
    ctx: CallContext,
    *,
    waterfall: bool = False,
    first: SlotOutcome | None = None,
) -> Final:
    """One provider after another until one answers (``waterfall``: answers non-empty).

    ``first``: how the call already went on the first provider (the chain's fast path
    tried it), in place of trying it again.

    In a waterfall an empty answer is held (:attr:`CallContext.held`) while the next
    provider is asked: its attempt is recorded as ``FALLBACK`` ("empty answer") once the
    chain moves on, or as ``DONE`` when it ends up the answer.
    """
    if waterfall:
        ctx.accept = _not_empty
    ambiguous: SlotOutcome | None = None
    ambiguous_from: str | None = None
    empty: Final | None = None
    waited = False
    while True:
        closest: tuple[float, ProviderSlot] | None = None
        tried = False
        # providers skipped softly (calls in flight, demoted for slow calls) come back at
        # the end, as a last resort: slowness never fails a call another provider cannot take
        queue = list(slots)
        first_pass = len(queue)  # the entries after these are last resorts
        index = 0
        while index < len(queue):
            slot = queue[index]
            last_resort = index >= first_pass
            index += 1
            if ctx.held is not None:  # an empty answer held: the chain moves on
                ctx.settle_held(Action.FALLBACK)
            if ambiguous_from and (
                ctx.policy.fallback_after_ambiguous == "never" or not slot.honours_idempotency
            ):
                why = (
                    "another provider would perform it again: the key only de-duplicates "
                    "where it was seen"
                    if slot.honours_idempotency
                    else f"{slot.name} honours no idempotency key"
                )
                ctx.skip(slot, f"{ambiguous_from} may already have performed this write; {why}")
                continue
            if first is not None:
                out, first = first, None
            else:
                out = await try_slot(slot, ctx, last_resort=last_resort)
            action = out.action
            if action is Action.SKIP:
                if out.soft:
                    queue.append(slot)
                    continue
                if out.available_in is not None and (
                    closest is None or out.available_in < closest[0]
                ):
                    closest = (out.available_in, slot)
                continue
            tried = True
            if action is Action.DONE:
                return Final(out.status, out.value, slot.name, out.reason)
            if action is Action.STOP:
                return Final(out.status, None, slot.name, out.reason)
            if out.status is Status.UNCERTAIN:
                ambiguous, ambiguous_from = out, slot.name
            elif out.status in _ANSWERED:  # an empty answer in a waterfall
                reason = "every provider answered, none found anything"
                empty = Final(out.status, out.value, slot.name, reason)
        if empty is not None:
            ctx.settle_held(Action.DONE)  # the last empty answer is the answer
            return empty
        if ambiguous is not None:
            _mark_stop(ctx, ambiguous_from)
            return Final(Status.UNCERTAIN, None, ambiguous_from, ambiguous.reason)
        if tried or closest is None or waited:
            break
        # every provider was unavailable: the configured policy decides
        policy = ctx.policy.when_all_down
        wait, slot = closest
        left = ctx.remaining()
        if policy == "closest":
            out = await try_slot(slot, ctx, forced=True)
            if out.action is Action.DONE or out.status in _ANSWERED:
                ctx.settle_held(Action.DONE)
                return Final(out.status, out.value, slot.name, out.reason)
            if out.status is Status.UNCERTAIN:
                _mark_stop(ctx, slot.name)
                return Final(Status.UNCERTAIN, None, slot.name, out.reason)
            break
        if policy == "wait" and math.isfinite(wait) and (left is None or wait < left):
            ctx.reasons.append(
                f"every provider was unavailable; waited {wait:.1f}s for {slot.name}"
            )
            await asyncio.sleep(wait)
            waited = True
            continue
        ctx.reasons.append(
            "every provider was unavailable"
            + (f"; {slot.name} recovers first, in {wait:.1f}s" if 0 < wait < math.inf else "")
        )
        break
    return Final(Status.FAILED, None, None, "; ".join(ctx.reasons) or "no provider was tried")


def _not_empty(value: Any) -> bool:
    return not is_empty(value)


async def fanout(
    slots: Sequence[ProviderSlot], ctx: CallContext, done_before: dict[str, Any]
) -> Final:
    """Every provider, concurrently. ``done_before``: providers that already performed this key."""

    async def one(slot: ProviderSlot) -> tuple[ProviderSlot, SlotOutcome]:
        return slot, await try_slot(slot, ctx, last_resort=True)

    pending = [s for s in slots if s.name not in done_before]
    results = dict(await asyncio.gather(*(one(s) for s in pending)))
    # in chain order: the providers that performed it before, and those that answered now
    values: dict[str, Any] = {}
    statuses: dict[str, Status] = {}
    for slot in slots:
        if slot.name in done_before:
            values[slot.name], statuses[slot.name] = done_before[slot.name], Status.OK
            continue
        out = results[slot]
        if out.action is Action.DONE:
            values[slot.name] = out.value
        statuses[slot.name] = out.status
    all_status = set(statuses.values())
    if all_status == {Status.OK}:
        status = Status.OK
    elif Status.UNCERTAIN in all_status:
        status = Status.UNCERTAIN
    elif all_status <= {Status.SIMULATED, Status.OK} and Status.SIMULATED in all_status:
        status = Status.SIMULATED
    elif Status.REJECTED in all_status and not values:
        status = Status.REJECTED
    else:
        status = Status.FAILED
    failed = [n for n, s in statuses.items() if s is not Status.OK]
    reason = None
    if failed:
        reason = f"not delivered by {', '.join(failed)}"
        if ctx.reasons:
            reason += ": " + "; ".join(ctx.reasons)
    # ``provider`` is the first that performed it; ``value`` maps every one that did
    return Final(status, values, next(iter(values), None), reason)


async def hedge(slots: Sequence[ProviderSlot], ctx: CallContext) -> Final:
    """Reads: start the next provider when the running ones are slower than the hedge delay.

    The first answer wins; the others are cancelled. Writes fall back to failover.
    """
    if ctx.op.effect is not Effect.READ:
        return await failover(slots, ctx)
    delay = _hedge_delay(slots, ctx)
    # (provider, last resort): one skipped softly (calls in flight, slowness) comes back last
    queue: list[tuple[ProviderSlot, bool]] = [(slot, False) for slot in slots]
    running: dict[asyncio.Task[SlotOutcome], ProviderSlot] = {}

    def start() -> None:
        slot, last_resort = queue.pop(0)
        task = asyncio.create_task(try_slot(slot, ctx, last_resort=last_resort))
        running[task] = slot

    try:
        while queue or running:
            if queue and not running:
                start()
                continue
            done, _ = await asyncio.wait(
                running, timeout=delay if queue else None, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:  # nobody answered within the delay: hedge with the next provider
                start()
                continue
            for task in done:
                slot = running.pop(task)
                out = task.result()
                if out.action is Action.DONE:
                    return Final(out.status, out.value, slot.name, out.reason)
                if out.status is Status.REJECTED:
                    return Final(Status.REJECTED, None, slot.name, out.reason)
                if out.action is Action.SKIP and out.soft:
                    queue.append((slot, True))
    finally:
        ctx.lost_race_after = delay
        for task, slot in running.items():
            task.cancel()
            ctx.record(
                slot,
                ctx.clock(),
                0.0,
                Action.CANCELLED,
                None,
                "another provider answered first",
            )
        if running:
            await asyncio.gather(*running, return_exceptions=True)
    return Final(Status.FAILED, None, None, "; ".join(ctx.reasons) or "no provider answered")


def _mark_stop(ctx: CallContext, provider: str | None) -> None:
    """The ambiguous attempt ended the call: record it as the stop it turned out to be."""
    ctx.mark_stop(provider)


def _hedge_delay(slots: Sequence[ProviderSlot], ctx: CallContext) -> float:
    """The configured delay, else the first provider's observed p99, else half the timeout."""
    if ctx.policy.hedge_delay is not None:
        return ctx.policy.hedge_delay
    p99 = slots[0].p99() if slots else None
    if p99 is not None:
        return p99
    timeout = ctx.policy.attempt_timeout
    return timeout / 2 if timeout else 1.0
