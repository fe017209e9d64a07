"""The plugin: the two observer hooks, handing each record to the current metrics.

Registered through ``[project.entry-points.aicmo_gateway] prometheus =
"aicmo_gateway_prometheus.plugin"``. Importing this module is cheap: prometheus_client is
imported when the first record arrives (or when the application calls ``configure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aicmo_gateway import hookimpl

if TYPE_CHECKING:
    from aicmo_gateway import Attempt, CallRecord

__all__ = ["aicmo_attempt_finished", "aicmo_call_finished"]


@hookimpl
def aicmo_attempt_finished(capability: str, operation: str, attempt: Attempt) -> None:
    from aicmo_gateway_prometheus.metrics import current

    metrics = current()
    if metrics is not None:
        metrics.attempt_finished(capability, operation, attempt)


@hookimpl
def aicmo_call_finished(call: CallRecord) -> None:
    from aicmo_gateway_prometheus.metrics import current

    metrics = current()
    if metrics is not None:
        metrics.call_finished(call)
