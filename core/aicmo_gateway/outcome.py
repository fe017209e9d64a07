"""``Outcome`` and ``Attempt``: the records every gateway call returns.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["Action", "Attempt", "CallRecord", "Outcome", "OutcomeError", "Status"]


class Status(enum.StrEnum):
    """How a call ended."""

    OK = "ok"  # a provider performed the operation
    REJECTED = "rejected"  # the input is wrong; no provider would take it
    DEFERRED = "deferred"  # stored durably, will be replayed
    SIMULATED = "simulated"  # nothing was performed (dry run, or a no-op provider)
    UNCERTAIN = "uncertain"  # a provider may have performed it; not retried elsewhere
    FAILED = "failed"  # no provider performed it


class Action(enum.StrEnum):
    """What the chain did after an attempt."""

    DONE = "done"  # the attempt answered the call
    FALLBACK = "fallback"  # moved on to the next provider
    RETRY = "retry"  # tried the same provider again
    CANCELLED = "cancelled"  # abandoned because another provider answered first (hedge)
    STOP = "stop"  # ended the call without trying further providers
    SKIP = "skip"  # the provider was not tried (the reason says why)


def _action(value: Action | str) -> Action:
    return value if type(value) is Action else Action(value)


@attrs.frozen
class Attempt:
    """One provider tried (or skipped) during a call."""

    provider: str  # the provider instance name from the config
    provider_type: str
    started_at: datetime
    duration: float  # seconds
    action: Action = attrs.field(converter=_action)
    #: the exception class name, when the attempt failed
    error: str | None = None
    #: the error text, with known secrets removed
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.action is Action.DONE


def _attempts(value: Iterable[Attempt]) -> tuple[Attempt, ...]:
    return value if type(value) is tuple else tuple(value)


def _status(value: Status | str) -> Status:
    return value if type(value) is Status else Status(value)


class _DeferredAttempts:
    """Lets an :class:`Outcome` made by the engine build its ``attempts`` on first read.

    The engine leaves the ``attempts`` slot empty and keeps a function that builds them in
    ``_pending``; reading ``attempts`` (directly, or through ``==``, ``repr``, pickling,
    ``attrs.evolve``) builds the tuple once and fills the slot. Outcomes nobody inspects
    never build their per-attempt records.
    """

    __slots__ = ("_pending",)

    def __getattr__(self, name: str) -> Any:
        # called only for an attribute not found: an unfilled ``attempts`` slot
        if name != "attempts":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        build: Callable[[], tuple[Attempt, ...]] = object.__getattribute__(self, "_pending")
        object.__setattr__(self, "attempts", build())
        return object.__getattribute__(self, "attempts")


@attrs.frozen
class Outcome(_DeferredAttempts):
    """The result of one gateway call: status, value, the serving provider, every attempt."""

    status: Status = attrs.field(converter=_status)
    # every field after ``status`` is keyword-only: Outcome(Status.OK, value=..., ...)
    value: Any = attrs.field(kw_only=True)
    #: the provider instance that answered or stopped the call (for ``fanout``: the first,
    #: in chain order, that performed it; ``value`` maps every one that did to its answer)
    provider: str | None = attrs.field(kw_only=True)
    attempts: tuple[Attempt, ...] = attrs.field(converter=_attempts, kw_only=True)
    call_id: str = attrs.field(kw_only=True)
    capability: str = attrs.field(kw_only=True)
    operation: str = attrs.field(kw_only=True)
    idempotency_key: str | None = attrs.field(default=None, kw_only=True)
    #: why the call did not end ``OK``, in words
    reason: str | None = attrs.field(default=None, kw_only=True)
    #: set when the idempotency key had already completed: the call id that performed it
    replayed_from: str | None = attrs.field(default=None, kw_only=True)
    #: set when the write was stored in the outbox (``DEFERRED``, or ``UNCERTAIN`` held there)
    outbox_id: str | None = attrs.field(default=None, kw_only=True)
    #: recipients the suppression list removed from the message, each with why
    #: (``{"a@example.com": "a@example.com unsubscribed on 2026-11-30, source one-click"}``);
    #: for ``fetch_replies``, the addresses the fetched bounces and complaints suppress
    suppressed: Mapping[str, str] = attrs.field(factory=dict, kw_only=True)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def unwrap(self) -> Any:
        """Return the value when the call is ``OK``; raise :class:`OutcomeError` otherwise."""
        if self.status is not Status.OK:
            raise OutcomeError(self)
        return self.value


_new = object.__new__
#: each slot's own setter (a frozen record refuses ``setattr``; the engine fills a new one
#: through its slots, as ``object.__setattr__`` would, without looking the name up)
_PENDING = _DeferredAttempts.__dict__["_pending"].__set__
(
    _STATUS,
    _VALUE,
    _PROVIDER,
    _CALL_ID,
    _CAPABILITY,
    _OPERATION,
    _KEY,
    _REASON,
    _REPLAYED_FROM,
    _OUTBOX_ID,
    _SUPPRESSED,
) = (
    Outcome.__dict__[name].__set__
    for name in (
        "status",
        "value",
        "provider",
        "call_id",
        "capability",
        "operation",
        "idempotency_key",
        "reason",
        "replayed_from",
        "outbox_id",
        "suppressed",
    )
)


def deferred_outcome(
    status: Status,
    value: Any,
    provider: str | None,
    attempts: Callable[[], tuple[Attempt, ...]],
    call_id: str,
    capability: str,
    operation: str,
    idempotency_key: str | None,
    reason: str | None,
) -> Outcome:
    """An :class:`Outcome` whose ``attempts`` are built by ``attempts()`` when first read
    (the engine's constructor: ``status`` is already a :class:`Status`)."""
    outcome: Outcome = _new(Outcome)
    _PENDING(outcome, attempts)
    _STATUS(outcome, status)
    _VALUE(outcome, value)
    _PROVIDER(outcome, provider)
    _CALL_ID(outcome, call_id)
    _CAPABILITY(outcome, capability)
    _OPERATION(outcome, operation)
    _KEY(outcome, idempotency_key)
    _REASON(outcome, reason)
    _REPLAYED_FROM(outcome, None)
    _OUTBOX_ID(outcome, None)
    _SUPPRESSED(outcome, {})
    return outcome


class OutcomeError(Exception):
    """Raised by :meth:`Outcome.unwrap` when the call did not succeed."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        super().__init__(
            f"{outcome.capability}.{outcome.operation} ended {outcome.status.value}: "
            f"{outcome.reason or 'no reason given'} (call {outcome.call_id})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from the outcome (the default would pass the message as the outcome)
        return (type(self), (self.outcome,))


@attrs.frozen
class CallRecord:
    """What observers receive after each call."""

    outcome: Outcome
    started_at: datetime
    duration: float
    dry_run: bool = False
