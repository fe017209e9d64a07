"""aicmo-gateway-otel: OpenTelemetry traces from the gateway's observer hooks.

Installed, the plugin records every gateway call as a span with a child span per attempt,
through the globally configured ``TracerProvider``. To pass another provider or turn it off,
see :func:`configure`; the README describes the spans and their attributes.

Importing this package is cheap: opentelemetry is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aicmo_gateway_otel.spans import CallTracer, configure, current

__all__ = ["CallTracer", "__version__", "configure", "current"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("aicmo-gateway-otel")
        except PackageNotFoundError:  # run from a checkout, not installed
            return "0+unknown"
    if name in __all__:
        from aicmo_gateway_otel import spans

        return getattr(spans, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
