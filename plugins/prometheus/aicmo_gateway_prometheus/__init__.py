"""aicmo-gateway-prometheus: Prometheus metrics from the gateway's observer hooks.

Installed, the plugin counts every call and attempt of every gateway in the process into
prometheus_client's default registry. To use another registry, serve the metrics on their own
HTTP endpoint, or export breaker states and quotas, see :func:`configure` and
:meth:`PrometheusMetrics.watch`; the README lists every metric.

Importing this package is cheap: prometheus_client is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aicmo_gateway_prometheus.metrics import (
        ENV_ADDR,
        ENV_PORT,
        MetricsServer,
        PrometheusMetrics,
        configure,
        current,
    )

__all__ = [
    "ENV_ADDR",
    "ENV_PORT",
    "MetricsServer",
    "PrometheusMetrics",
    "__version__",
    "configure",
    "current",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("aicmo-gateway-prometheus")
        except PackageNotFoundError:  # run from a checkout, not installed
            return "0+unknown"
    if name in __all__:
        from aicmo_gateway_prometheus import metrics

        return getattr(metrics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
