"""The state of one call as it moves through a chain, and its attempts as recorded.

:class:`CallContext` is what the strategies and :func:`~aicmo_gateway.engine.attempt.try_slot`
share during a call; :class:`SlotOutcome` is how the call went on one provider. Attempts
are recorded as tuples and become :class:`~aicmo_gateway.outcome.Attempt` records only when
someone reads them (:func:`build_attempts`), or at once for observers.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from aicmo_gateway.engine.policy import ChainPolicy
from aicmo_gateway.engine.slot import ProviderSlot
from aicmo_gateway.outcome import Action, Attempt, Status
from aicmo_gateway.ports import Operation

__all__ = ["CallContext", "SlotOutcome", "build_attempts"]


@attrs.define
class SlotOutcome:
    """How the call went on one provider.

    ``action``: ``DONE`` (it answered; ``status`` is ``OK`` or ``SIMULATED``), ``SKIP`` (not
    tried), ``FALLBACK`` (it failed and another provider may try: ``status`` ``FAILED``,
    or ``UNCERTAIN`` when a write may have been performed) or ``STOP`` (end the call:
    ``REJECTED`` input or an ``on_error`` stop, ``FAILED``).
    """

    action: Action
    status: Status
    value: Any = None
    reason: str | None = None
    #: seconds until this provider could take the call, when skipped
    available_in: float | None = None
    #: skipped only for calls in flight or slowness (a demotion): usable as a last resort
    soft: bool = False
    #: held back by the rate limit or a quota, and the provider waits for it
    limited: bool = False


#: one attempt as recorded during the call: (provider, loop time it started, seconds,
#: action, error, detail), or the :class:`Attempt` itself once one was built for an observer
_Raw = tuple[ProviderSlot, float, float, Action, "str | None", "str | None"]


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
    #: tells ``aicmo_attempt_finished`` observers (``None``: nobody observes it)
    notify: Callable[..., None] | None
    #: the running loop's clock (virtual under a virtual-time loop)
    clock: Callable[[], float]
    #: every provider of the chain (to tell whether any other one is serving)
    slots: Sequence[ProviderSlot] = ()
    #: the wall clock (``time.time()``) and the loop time read together when the call
    #: started: an attempt's ``started_at`` is that time plus the loop time since
    #: (``None``: read when the first record is built)
    origin: tuple[float, float] | None = None
    #: the attempts so far, as recorded (:meth:`attempt_records` makes the records)
    attempts: list[_Raw | Attempt] = attrs.field(factory=list)
    reasons: list[str] = attrs.field(factory=list)
    #: set by hedge before cancelling losers: a loser running at least this long failed
    lost_race_after: float | None = None
    #: which answers end the call (a waterfall: non-empty ones); ``None``: every answer
    accept: Callable[[Any], bool] | None = None
    #: an answer ``accept`` passed over, not recorded yet: (provider, started at, seconds)
    held: tuple[ProviderSlot, float, float] | None = None

    def remaining(self) -> float | None:
        if self.budget is None:
            return None
        return self.budget - (self.clock() - self.started)

    def skip(self, slot: ProviderSlot, reason: str, now: float | None = None) -> SlotOutcome:
        """Record ``slot`` as skipped (``now``: the loop time, when the caller has read it)."""
        self.record(slot, self.clock() if now is None else now, 0.0, Action.SKIP, None, reason)
        return SlotOutcome(Action.SKIP, Status.FAILED, reason=f"{slot.name}: skipped: {reason}")

    def settle_held(self, action: Action) -> None:
        """Record the held empty answer: ``FALLBACK`` once the chain moved on, or ``DONE``."""
        held, self.held = self.held, None
        if held is not None:
            slot, started, duration = held
            self.record(slot, started, duration, action, None, "empty answer")

    def record(
        self,
        slot: ProviderSlot,
        started: float,
        duration: float,
        action: Action,
        error: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record an attempt that started at loop time ``started``; its :class:`Attempt` is
        built now only for observers, else when someone reads the outcome's ``attempts``."""
        if self.notify is None:
            self.attempts.append((slot, started, duration, action, error, detail))
            return
        attempt = self._attempt((slot, started, duration, action, error, detail))
        self.attempts.append(attempt)
        self.notify(
            "aicmo_attempt_finished",
            capability=self.capability,
            operation=self.op.name,
            attempt=attempt,
        )

    def mark_stop(self, provider: str | None) -> None:
        """The last failed attempt on ``provider`` ended the call: record it as a ``STOP``."""
        attempts = self.attempts
        for i in range(len(attempts) - 1, -1, -1):
            entry = attempts[i]
            if isinstance(entry, Attempt):
                if entry.provider == provider and entry.error is not None:
                    attempts[i] = attrs.evolve(entry, action=Action.STOP)
                    return
                continue
            slot, started, duration, _, error, detail = entry
            if slot.name == provider and error is not None:
                attempts[i] = (slot, started, duration, Action.STOP, error, detail)
                return

    def attempt_records(self) -> tuple[Attempt, ...]:
        """Every attempt of the call as an :class:`Attempt`, in order."""
        return build_attempts(self.attempts, self._origin())

    def deferred_attempts(self) -> Callable[[], tuple[Attempt, ...]]:
        """A function that builds :meth:`attempt_records` later, holding only the recorded
        attempts (not this context, its payload or its lists)."""
        return functools.partial(build_attempts, self.attempts, self._origin())

    def _attempt(self, raw: _Raw) -> Attempt:
        return _built(raw, self._origin())

    def _origin(self) -> tuple[float, float]:
        origin = self.origin
        if origin is None:
            origin = self.origin = (time.time(), self.clock())
        return origin


def build_attempts(
    recorded: Sequence[_Raw | Attempt], origin: tuple[float, float]
) -> tuple[Attempt, ...]:
    """The :class:`Attempt` records of attempts recorded as :attr:`CallContext.attempts`."""
    return tuple([a if type(a) is Attempt else _built(a, origin) for a in recorded])  # type: ignore[arg-type]


def _built(raw: _Raw, origin: tuple[float, float]) -> Attempt:
    slot, started, duration, action, error, detail = raw
    started_at = datetime.fromtimestamp(origin[0] + (started - origin[1]), UTC)
    return Attempt(slot.name, slot.type.name, started_at, duration, action, error, detail)
