"""Gauges read from a gateway at each scrape: breaker states, health, failure rates, quotas.

They come from the gateway's public accessors, ``Gateway.status()`` and ``Gateway.quotas()``,
so a scrape shows the state as it is then, not as the last call left it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from aicmo_gateway import Gateway

__all__ = ["GatewayCollector"]

BREAKER_STATES = ("closed", "open", "half_open")
HEALTH_STATES = ("healthy", "degraded", "unhealthy", "unknown")


class GatewayCollector(Collector):
    """A prometheus_client collector over one gateway (held weakly)."""

    def __init__(self, gateway: Gateway, namespace: str) -> None:
        self._gateway = weakref.ref(gateway)
        self.namespace = namespace

    @property
    def gateway(self) -> Gateway | None:
        return self._gateway()

    def describe(self) -> list[Metric]:
        # nothing up front: the series depend on the gateway's configuration
        return []

    def collect(self) -> Iterator[Metric]:
        gateway = self._gateway()
        if gateway is None:
            return
        ns = self.namespace
        labels = ["capability", "provider"]
        breaker = GaugeMetricFamily(
            f"{ns}_breaker_state",
            "The provider's circuit breaker: 1 for its current state, 0 for the others.",
            labels=[*labels, "state"],
        )
        health = GaugeMetricFamily(
            f"{ns}_provider_health",
            "The provider's health: 1 for the current one, 0 for the others.",
            labels=[*labels, "health"],
        )
        failure_rate = GaugeMetricFamily(
            f"{ns}_provider_failure_rate",
            "The share of the provider's recent calls (its health window) that failed.",
            labels=labels,
        )
        for row in gateway.status():
            where = [row["capability"], row["provider"]]
            for state in BREAKER_STATES:
                breaker.add_metric([*where, state], 1.0 if row["state"] == state else 0.0)
            for value in HEALTH_STATES:
                health.add_metric([*where, value], 1.0 if row["health"] == value else 0.0)
            failure_rate.add_metric(where, float(row["failure_rate"]))
        yield breaker
        yield health
        yield failure_rate

        quota = [*labels, "period"]
        limit = GaugeMetricFamily(
            f"{ns}_quota_limit", "Calls the quota allows per period.", labels=quota
        )
        used = GaugeMetricFamily(
            f"{ns}_quota_used", "Calls spent in the quota's current period.", labels=quota
        )
        remaining = GaugeMetricFamily(
            f"{ns}_quota_remaining", "Calls left in the quota's current period.", labels=quota
        )
        resets = GaugeMetricFamily(
            f"{ns}_quota_resets_in_seconds",
            "Seconds until the quota's current period ends.",
            labels=quota,
        )
        for row in gateway.quotas():
            where = [row["capability"], row["provider"], row["period"]]
            limit.add_metric(where, float(row["limit"]))
            used.add_metric(where, float(row["used"]))
            remaining.add_metric(where, float(row["remaining"]))
            resets.add_metric(where, float(row["resets_in"]))
        yield limit
        yield used
        yield remaining
        yield resets
