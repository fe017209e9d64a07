"""Spans from call records: one per call, a child per attempt, made after the fact.

The gateway tells observers about a call once it has ended (``aicmo_call_finished``), so the
spans are created then, with explicit start and end times taken from the record: the call's
``started_at`` plus its ``duration``, and each attempt's ``started_at`` plus its ``duration``.
The call span's parent is the span current where the hook runs: the caller's task, so the
span the application had active around ``await gateway.<capability>.<method>(...)``.

Attributes hold the capability, operation, provider, outcome status, attempt action and
error class, and the call id (to look the call up with ``explain``). Never an error's text, a
reason, an idempotency key, a value, or anything from the payload: those can carry addresses
or content.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

if TYPE_CHECKING:
    from aicmo_gateway import Attempt, CallRecord

__all__ = ["CallTracer", "configure", "current"]

TRACER_NAME = "aicmo_gateway_otel"
#: how a call ended, as span status: these are errors (the others are left unset)
ERROR_STATUSES = frozenset({"failed", "uncertain", "rejected"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exactly (no float rounding of the timestamp)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND * 1000


def _span_ns(seconds: float) -> int:
    return max(0, round(seconds * 1e9))


class CallTracer:
    """Turns call records into spans on one tracer."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.tracer_provider = tracer_provider
        self._tracer: trace.Tracer | None = None

    @property
    def tracer(self) -> trace.Tracer:
        if self._tracer is None:
            from aicmo_gateway_otel import __version__

            # without a provider: the global one (a proxy until the application sets it)
            self._tracer = trace.get_tracer(
                TRACER_NAME, __version__, tracer_provider=self.tracer_provider
            )
        return self._tracer

    def record(self, call: CallRecord) -> None:
        """One span for the call and one child span per attempt made (skips become events)."""
        outcome = call.outcome
        capability, operation = outcome.capability, outcome.operation
        status = str(outcome.status)
        start = _ns(call.started_at)
        made = [a for a in outcome.attempts if str(a.action) != "skip"]
        attributes: dict[str, Any] = {
            "aicmo.capability": capability,
            "aicmo.operation": operation,
            "aicmo.call_id": outcome.call_id,
            "aicmo.outcome.status": status,
            "aicmo.attempts": len(made),
            "aicmo.dry_run": call.dry_run,
            "aicmo.replayed": outcome.replayed_from is not None,
        }
        if outcome.provider is not None:
            attributes["aicmo.provider"] = outcome.provider
        failed = [a.error for a in made if a.error is not None]
        if status in ERROR_STATUSES:
            attributes["error.type"] = failed[-1] if failed else status
        span = self.tracer.start_span(
            f"{capability}.{operation}",
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            start_time=start,
        )
        parent = trace.set_span_in_context(span)
        for attempt in outcome.attempts:
            if str(attempt.action) == "skip":
                span.add_event(
                    "aicmo.provider_skipped",
                    {
                        "aicmo.provider": attempt.provider,
                        "aicmo.provider_type": attempt.provider_type,
                    },
                    timestamp=_ns(attempt.started_at),
                )
            else:
                self._attempt(capability, operation, attempt, parent)
        if status in ERROR_STATUSES:
            span.set_status(StatusCode.ERROR, f"the call ended {status}")
        span.end(end_time=start + _span_ns(call.duration))

    def _attempt(self, capability: str, operation: str, attempt: Attempt, parent: Any) -> None:
        start = _ns(attempt.started_at)
        attributes: dict[str, Any] = {
            "aicmo.capability": capability,
            "aicmo.operation": operation,
            "aicmo.provider": attempt.provider,
            "aicmo.provider_type": attempt.provider_type,
            "aicmo.attempt.action": str(attempt.action),
        }
        if attempt.error is not None:
            attributes["error.type"] = attempt.error
        span = self.tracer.start_span(
            f"{capability}.{operation} {attempt.provider}",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=start,
        )
        if attempt.error is not None:
            span.set_status(StatusCode.ERROR, attempt.error)
        span.end(end_time=start + _span_ns(attempt.duration))


_lock = threading.Lock()
_current: CallTracer | None = None
_decided = False


def current() -> CallTracer | None:
    """The tracer the hook uses: on the global ``TracerProvider`` unless configured."""
    global _current, _decided
    if _decided:
        return _current
    with _lock:
        if not _decided:
            _current = CallTracer()
            _decided = True
    return _current


def configure(
    tracer_provider: trace.TracerProvider | None = None, *, enabled: bool = True
) -> CallTracer | None:
    """Record calls through ``tracer_provider`` (default: the global one), or not at all.

    ``enabled=False`` records nothing (returns ``None``). Replaces what was configured before.
    """
    global _current, _decided
    with _lock:
        _current = CallTracer(tracer_provider) if enabled else None
        _decided = True
        return _current
