"""One capability's chain: try providers in order, classify each failure, fall back or stop.

The chain owns the attempt loop. It knows the operation's side effect (from
the port table) and the error taxonomy, and turns them into an ``Outcome``:

==========================================  ===========  ===================
what happened                               action       outcome if last
==========================================  ===========  ===================
the provider returned a result              done         OK
it returned a result marked not performed   done         SIMULATED
``InvalidInput``                            stop         REJECTED
``Unavailable`` and subclasses              fallback     FAILED
``Ambiguous`` / attempt timeout, on a write stop         UNCERTAIN
``Ambiguous`` / attempt timeout, on a read  fallback     FAILED
any other exception                         fallback     FAILED
==========================================  ===========  ===================
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from aicmo_gateway.audit import AuditTrail
from aicmo_gateway.errors import Ambiguous, InvalidInput, ProviderError
from aicmo_gateway.ledger import MemoryLedger
from aicmo_gateway.outcome import Action, Attempt, CallRecord, Outcome, Status
from aicmo_gateway.ports import Effect, Operation, PortSpec
from aicmo_gateway.provider_type import ProviderType

__all__ = ["Chain", "ProviderSlot", "derive_idempotency_key"]

_MAX_DETAIL = 500


@attrs.define
class ProviderSlot:
    """A configured provider instance in a chain."""

    name: str
    type: ProviderType
    provider: Any
    #: secret values to remove from error texts
    secrets: tuple[str, ...] = ()


def _canonical(value: Any) -> Any:
    if attrs.has(type(value)):
        return {
            type(value).__name__: {
                k: _canonical(v) for k, v in attrs.asdict(value, recurse=False).items()
            }
        }
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def derive_idempotency_key(capability: str, operation: str, payload: Any) -> str:
    """A stable key for a write: the same payload always gives the same key."""
    text = json.dumps(
        [capability, operation, _canonical(payload)], sort_keys=True, separators=(",", ":")
    )
    return "auto-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _performed(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return all(_performed(v) for v in value) if value else True
    return bool(getattr(value, "performed", True))


class Chain:
    """The providers of one capability, in order, and the attempt loop over them."""

    def __init__(
        self,
        spec: PortSpec,
        slots: Sequence[ProviderSlot],
        *,
        deadline: float | None = None,
        attempt_timeout: float | None = None,
        notify: Callable[..., None] | None = None,
        prepare: Callable[[str, Any, str | None], Any] | None = None,
        ledger: MemoryLedger | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        self.spec = spec
        self.slots = list(slots)
        self.deadline = deadline
        self.attempt_timeout = attempt_timeout
        self._notify = notify or (lambda hook, **kw: None)
        #: adapts the payload before sending (e.g. a Message-ID from the idempotency key)
        self._prepare = prepare or (lambda op, payload, key: payload)
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self.audit = audit if audit is not None else AuditTrail()

    @property
    def capability(self) -> str:
        return self.spec.capability

    def plan(self) -> list[str]:
        """The provider instances in the order a call would try them."""
        return [slot.name for slot in self.slots]

    async def call(
        self,
        operation: str,
        payload: Any,
        *,
        idempotency_key: str | None = None,
        dry_run: bool = False,
        deadline: float | None = None,
    ) -> Outcome:
        op = self.spec.operation(operation)
        call_id = uuid.uuid4().hex
        started_at = datetime.now(UTC)
        t0 = time.monotonic()
        if idempotency_key is None and op.effect is not Effect.READ:
            idempotency_key = derive_idempotency_key(self.capability, operation, payload)
        if dry_run:
            outcome = self._outcome(
                Status.SIMULATED,
                self.plan(),
                None,
                [],
                call_id,
                op,
                idempotency_key,
                "dry run: would try " + ", then ".join(self.plan()) + "; nothing was performed",
            )
        elif idempotency_key is not None and op.effect is not Effect.READ:
            async with self.ledger.claim(self.capability, operation, idempotency_key):
                done = self.ledger.get(self.capability, operation, idempotency_key)
                if done is not None:
                    outcome = attrs.evolve(
                        done, call_id=call_id, attempts=(), replayed_from=done.call_id
                    )
                else:
                    outcome = await self._perform(
                        op, payload, call_id, idempotency_key, t0, deadline
                    )
                    self.ledger.record(outcome)
        else:
            outcome = await self._perform(op, payload, call_id, idempotency_key, t0, deadline)
        record = CallRecord(outcome, started_at, time.monotonic() - t0, dry_run)
        self.audit.add(record)
        self._notify("aicmo_call_finished", call=record)
        return outcome

    async def _perform(
        self,
        op: Operation,
        payload: Any,
        call_id: str,
        key: str | None,
        t0: float,
        deadline: float | None,
    ) -> Outcome:
        payload = self._prepare(op.name, payload, key)
        budget = deadline if deadline is not None else self.deadline
        return await self._run(op, payload, call_id, key, t0, budget)

    def _outcome(
        self,
        status: Status,
        value: Any,
        provider: str | None,
        attempts: list[Attempt],
        call_id: str,
        op: Operation,
        key: str | None,
        reason: str | None,
    ) -> Outcome:
        return Outcome(
            status, value, provider, attempts, call_id, self.capability, op.name, key, reason
        )

    async def _run(
        self,
        op: Operation,
        payload: Any,
        call_id: str,
        key: str | None,
        t0: float,
        budget: float | None,
    ) -> Outcome:
        attempts: list[Attempt] = []
        reasons: list[str] = []
        for index, slot in enumerate(self.slots):
            remaining = None if budget is None else budget - (time.monotonic() - t0)
            if remaining is not None and remaining <= 0:
                for skipped in self.slots[index:]:
                    attempts.append(
                        Attempt(
                            skipped.name,
                            skipped.type.name,
                            datetime.now(UTC),
                            0.0,
                            Action.SKIP,
                            None,
                            "the call's deadline passed",
                        )
                    )
                reasons.append("the call's deadline passed")
                break
            timeout = _min(self.attempt_timeout, remaining)
            started = datetime.now(UTC)
            a0 = time.monotonic()
            try:
                value = await self._invoke(slot, op, payload, timeout)
            except Exception as exc:
                action, status = self._classify(exc, op)
                detail = self._detail(slot, exc)
                attempt = Attempt(
                    slot.name,
                    slot.type.name,
                    started,
                    time.monotonic() - a0,
                    action,
                    _error_name(exc),
                    detail,
                )
                attempts.append(attempt)
                self._notify(
                    "aicmo_attempt_finished",
                    capability=self.capability,
                    operation=op.name,
                    attempt=attempt,
                )
                reasons.append(f"{slot.name}: {attempt.error}: {detail}")
                if action is Action.STOP:
                    return self._outcome(
                        status, None, slot.name, attempts, call_id, op, key, reasons[-1]
                    )
                continue
            attempt = Attempt(
                slot.name, slot.type.name, started, time.monotonic() - a0, Action.DONE
            )
            attempts.append(attempt)
            self._notify(
                "aicmo_attempt_finished",
                capability=self.capability,
                operation=op.name,
                attempt=attempt,
            )
            if not _performed(value):
                return self._outcome(
                    Status.SIMULATED,
                    value,
                    slot.name,
                    attempts,
                    call_id,
                    op,
                    key,
                    f"{slot.name} ({slot.type.name}) did not perform the operation",
                )
            return self._outcome(Status.OK, value, slot.name, attempts, call_id, op, key, None)
        return self._outcome(
            Status.FAILED,
            None,
            None,
            attempts,
            call_id,
            op,
            key,
            "; ".join(reasons) or "no provider was tried",
        )

    def _classify(self, exc: BaseException, op: Operation) -> tuple[Action, Status]:
        if isinstance(exc, InvalidInput):
            return Action.STOP, Status.REJECTED
        ambiguous = isinstance(exc, Ambiguous | TimeoutError) or (
            isinstance(exc, ProviderError) and exc.performed is None
        )
        if ambiguous and op.effect is Effect.WRITE:
            return Action.STOP, Status.UNCERTAIN
        return Action.FALLBACK, Status.FAILED

    def _detail(self, slot: ProviderSlot, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError) and not str(exc):
            text = "the attempt timed out"
        for secret in slot.secrets:
            if secret:
                text = text.replace(secret, "********")
        return text[:_MAX_DETAIL]

    async def _invoke(
        self, slot: ProviderSlot, op: Operation, payload: Any, timeout: float | None
    ) -> Any:
        async with asyncio.timeout(timeout):
            if op.batch_of is None:
                return await _call(getattr(slot.provider, op.name), payload)
            native = getattr(slot.provider, op.name, None)
            items = list(payload)
            if callable(native):
                size = slot.type.batch_size or len(items) or 1
                results: list[Any] = []
                for i in range(0, len(items), size):
                    results.extend(await _call(native, items[i : i + size]))
                return tuple(results)
            single = getattr(slot.provider, op.batch_of)
            return tuple([await _call(single, item) for item in items])


async def _call(method: Callable[..., Any], arg: Any) -> Any:
    if inspect.iscoroutinefunction(method):
        return await method(arg)
    result = await asyncio.to_thread(method, arg)
    if inspect.isawaitable(result):
        return await result
    return result


def _min(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "TimeoutError"
    return type(exc).__name__
