"""The plugin: the ``aicmo_call_finished`` observer, turning each call record into spans.

Registered through ``[project.entry-points.aicmo_gateway] otel = "aicmo_gateway_otel.plugin"``.
Importing this module is cheap: opentelemetry is imported when the first call is recorded (or
when the application calls ``configure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aicmo_gateway import hookimpl

if TYPE_CHECKING:
    from aicmo_gateway import CallRecord

__all__ = ["aicmo_call_finished"]


@hookimpl
def aicmo_call_finished(call: CallRecord) -> None:
    from aicmo_gateway_otel.spans import current

    tracer = current()
    if tracer is not None:
        tracer.record(call)
