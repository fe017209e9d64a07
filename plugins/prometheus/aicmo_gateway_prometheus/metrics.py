"""The metrics: counters and histograms fed by the observer hooks, and the current instance.

One :class:`PrometheusMetrics` is current per process; the plugin's hooks hand it every
attempt and call. It is made from the environment on the first record
(:data:`ENV_PORT`, :data:`ENV_ADDR`) unless the application called :func:`configure` first.

Labels are the capability, the operation, the provider instance name from the config, the
outcome status, the attempt action and the error class: all bounded by the configuration and
the code. Nothing about a message (recipients, content, ids, keys) is ever a label.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from aicmo_gateway_prometheus.gauges import GatewayCollector
from aicmo_gateway_prometheus.server import MetricsServer

if TYPE_CHECKING:
    from aicmo_gateway import Attempt, CallRecord, Gateway

__all__ = [
    "ENV_ADDR",
    "ENV_PORT",
    "MetricsServer",
    "PrometheusMetrics",
    "configure",
    "current",
]

#: serve the metrics on this port (``0``: any free port) from the first recorded call
ENV_PORT = "AICMO_GATEWAY_PROMETHEUS_PORT"
#: the address that endpoint listens on (default ``127.0.0.1``)
ENV_ADDR = "AICMO_GATEWAY_PROMETHEUS_ADDR"

DEFAULT_NAMESPACE = "aicmo_gateway"
DEFAULT_ADDR = "127.0.0.1"


class PrometheusMetrics:
    """The gateway's metrics in one ``CollectorRegistry``.

    Use :func:`configure` to make one current (the hooks feed only the current one); build one
    directly only to feed it yourself.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        buckets: Sequence[float] | None = None,
    ) -> None:
        self.registry = registry if registry is not None else REGISTRY
        self.namespace = namespace
        self.server: MetricsServer | None = None
        self._watched: list[GatewayCollector] = []
        extra: dict[str, Any] = {"buckets": tuple(buckets)} if buckets is not None else {}
        reg = self.registry
        call = ("capability", "operation")
        self.calls = Counter(
            "calls",
            "Gateway calls, by how they ended and the provider that answered ('' if none).",
            [*call, "provider", "status"],
            namespace=namespace,
            registry=reg,
        )
        self.call_duration = Histogram(
            "call_duration_seconds",
            "Duration of gateway calls, every attempt and wait included.",
            [*call, "status"],
            namespace=namespace,
            registry=reg,
            **extra,
        )
        self.attempts = Counter(
            "attempts",
            "Attempts made on a provider, by what the chain did next (done, fallback, retry, "
            "stop).",
            [*call, "provider", "action"],
            namespace=namespace,
            registry=reg,
        )
        self.attempt_duration = Histogram(
            "attempt_duration_seconds",
            "Duration of attempts on a provider.",
            [*call, "provider"],
            namespace=namespace,
            registry=reg,
            **extra,
        )
        self.attempt_errors = Counter(
            "attempt_errors",
            "Failed attempts, by the error class.",
            [*call, "provider", "error"],
            namespace=namespace,
            registry=reg,
        )
        self.skips = Counter(
            "skips",
            "Providers a call passed over without trying them (open breaker, cooldown, spent "
            "quota or rate limit, deadline).",
            [*call, "provider"],
            namespace=namespace,
            registry=reg,
        )
        #: label values -> child, per metric: ``labels()`` validates and locks on every use
        self._children: dict[tuple[Any, ...], Any] = {}
        self._own = [
            self.calls,
            self.call_duration,
            self.attempts,
            self.attempt_duration,
            self.attempt_errors,
            self.skips,
        ]

    # -- fed by the hooks ---------------------------------------------------------

    def _child(self, metric: Any, *values: str) -> Any:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def attempt_finished(self, capability: str, operation: str, attempt: Attempt) -> None:
        """Count one attempt made on a provider (skips come with the call, see below)."""
        action = str(attempt.action)
        if action == "skip":
            return
        provider = attempt.provider
        self._child(self.attempts, capability, operation, provider, action).inc()
        self._child(self.attempt_duration, capability, operation, provider).observe(
            attempt.duration
        )
        if attempt.error is not None:
            self._child(self.attempt_errors, capability, operation, provider, attempt.error).inc()

    def call_finished(self, call: CallRecord) -> None:
        """Count one call, its duration and the providers it skipped."""
        outcome = call.outcome
        capability, operation, status = outcome.capability, outcome.operation, str(outcome.status)
        self._child(self.calls, capability, operation, outcome.provider or "", status).inc()
        self._child(self.call_duration, capability, operation, status).observe(call.duration)
        for attempt in outcome.attempts:
            if str(attempt.action) == "skip":
                self._child(self.skips, capability, operation, attempt.provider).inc()

    # -- gauges, endpoints ----------------------------------------------------------

    def watch(self, gateway: Gateway) -> GatewayCollector:
        """Export ``gateway``'s breaker states, health and quotas, read at each scrape.

        The gateway is held weakly: once it is gone its gauges are too. Watch one gateway per
        registry (two with the same provider names would give duplicate series).
        """
        collector = GatewayCollector(gateway, self.namespace)
        self.registry.register(collector)
        self._watched.append(collector)
        return collector

    def unwatch(self, gateway: Gateway) -> None:
        """Stop exporting ``gateway``'s gauges."""
        for collector in [c for c in self._watched if c.gateway is gateway]:
            self._watched.remove(collector)
            self.registry.unregister(collector)

    def serve(self, port: int = 0, addr: str = DEFAULT_ADDR) -> MetricsServer:
        """Serve this registry at ``http://addr:port/metrics`` (any path) from a thread.

        ``port=0`` takes a free port (``server.port`` says which). Stopped by :meth:`close`.
        """
        if self.server is not None:
            raise RuntimeError(
                f"the metrics are already served on {self.server.url}; close() them first"
            )
        self.server = MetricsServer.start(self.registry, port, addr)
        return self.server

    def wsgi_app(self) -> Any:
        """A WSGI application serving this registry, to mount in the application's server."""
        from prometheus_client import make_wsgi_app

        return make_wsgi_app(self.registry)

    def asgi_app(self) -> Any:
        """An ASGI application serving this registry, to mount in the application's server."""
        from prometheus_client import make_asgi_app

        return make_asgi_app(self.registry)

    def close(self) -> None:
        """Stop the endpoint and remove every metric of this instance from its registry."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for collector in [*self._own, *self._watched]:
            with contextlib.suppress(KeyError):  # already removed by the application
                self.registry.unregister(collector)
        self._own, self._watched = [], []

    # -- from the environment ---------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PrometheusMetrics:
        """The default registry; an endpoint too when :data:`ENV_PORT` is set."""
        port = _port(env.get(ENV_PORT, "").strip())
        metrics = cls()
        if port is not None:
            metrics.serve(port, env.get(ENV_ADDR, "").strip() or DEFAULT_ADDR)
        return metrics


def _port(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(
            f"{ENV_PORT}={text!r} is not a port; set a whole number from 0 to 65535 "
            "(0 takes any free port), or unset it to export to the default registry only"
        )
    return int(text)


_lock = threading.Lock()
_current: PrometheusMetrics | None = None
_decided = False  # configure() ran, or the environment was read


def current() -> PrometheusMetrics | None:
    """The metrics the hooks feed: made from the environment on first use unless configured."""
    global _current, _decided
    if _decided:
        return _current
    with _lock:
        if not _decided:
            _current = PrometheusMetrics.from_env(os.environ)
            _decided = True
    return _current


def configure(
    registry: CollectorRegistry | None = None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    buckets: Sequence[float] | None = None,
    port: int | None = None,
    addr: str = DEFAULT_ADDR,
    enabled: bool = True,
) -> PrometheusMetrics | None:
    """Make the metrics the hooks feed, replacing (and closing) the current ones.

    ``registry``: the application's ``CollectorRegistry`` (default: prometheus_client's
    ``REGISTRY``). ``port``: also serve it on ``http://addr:port/metrics``. ``enabled=False``:
    record nothing (returns ``None``). The environment variables are not read.
    """
    global _current, _decided
    with _lock:
        if _current is not None:
            _current.close()
        _current = None
        _decided = True
        if not enabled:
            return None
        metrics = PrometheusMetrics(registry, namespace=namespace, buckets=buckets)
        if port is not None:
            metrics.serve(port, addr)
        _current = metrics
        return metrics
