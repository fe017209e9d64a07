# ruff: noqa: E501  (the expected expositions are written as Prometheus writes them)
"""The metrics as Prometheus scrapes them, after a failover chain ran through the gateway."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import urllib.request

import aicmo_gateway_prometheus
import pytest
from aicmo_gateway_prometheus import PrometheusMetrics
from prometheus_client import CollectorRegistry, generate_latest

RECIPIENT = "lead@example.com"  # as in conftest.py
SUBJECT = "A very private subject line"
BUCKETS = (0.1, 0.5)

#: every series after the three sends, in exposition order (``_created`` lines left out;
#: prometheus_client writes the labels sorted by name)
COUNTERS_AND_HISTOGRAMS = """\
aicmo_gateway_calls_total{capability="email_sending",operation="send",provider="backup",status="ok"} 3.0
aicmo_gateway_call_duration_seconds_bucket{capability="email_sending",le="0.1",operation="send",status="ok"} 0.0
aicmo_gateway_call_duration_seconds_bucket{capability="email_sending",le="0.5",operation="send",status="ok"} 3.0
aicmo_gateway_call_duration_seconds_bucket{capability="email_sending",le="+Inf",operation="send",status="ok"} 3.0
aicmo_gateway_call_duration_seconds_count{capability="email_sending",operation="send",status="ok"} 3.0
aicmo_gateway_call_duration_seconds_sum{capability="email_sending",operation="send",status="ok"} 0.75
aicmo_gateway_attempts_total{action="fallback",capability="email_sending",operation="send",provider="primary"} 2.0
aicmo_gateway_attempts_total{action="done",capability="email_sending",operation="send",provider="backup"} 3.0
aicmo_gateway_attempt_duration_seconds_bucket{capability="email_sending",le="0.1",operation="send",provider="primary"} 2.0
aicmo_gateway_attempt_duration_seconds_bucket{capability="email_sending",le="0.5",operation="send",provider="primary"} 2.0
aicmo_gateway_attempt_duration_seconds_bucket{capability="email_sending",le="+Inf",operation="send",provider="primary"} 2.0
aicmo_gateway_attempt_duration_seconds_count{capability="email_sending",operation="send",provider="primary"} 2.0
aicmo_gateway_attempt_duration_seconds_sum{capability="email_sending",operation="send",provider="primary"} 0.0
aicmo_gateway_attempt_duration_seconds_bucket{capability="email_sending",le="0.1",operation="send",provider="backup"} 0.0
aicmo_gateway_attempt_duration_seconds_bucket{capability="email_sending",le="0.5",operation="send",provider="backup"} 3.0
aicmo_gateway_attempt_duration_seconds_bucket{capability="email_sending",le="+Inf",operation="send",provider="backup"} 3.0
aicmo_gateway_attempt_duration_seconds_count{capability="email_sending",operation="send",provider="backup"} 3.0
aicmo_gateway_attempt_duration_seconds_sum{capability="email_sending",operation="send",provider="backup"} 0.75
aicmo_gateway_attempt_errors_total{capability="email_sending",error="Unavailable",operation="send",provider="primary"} 2.0
aicmo_gateway_skips_total{capability="email_sending",operation="send",provider="primary"} 1.0
"""

GAUGES = """\
aicmo_gateway_breaker_state{capability="email_sending",provider="primary",state="closed"} 0.0
aicmo_gateway_breaker_state{capability="email_sending",provider="primary",state="open"} 1.0
aicmo_gateway_breaker_state{capability="email_sending",provider="primary",state="half_open"} 0.0
aicmo_gateway_breaker_state{capability="email_sending",provider="backup",state="closed"} 1.0
aicmo_gateway_breaker_state{capability="email_sending",provider="backup",state="open"} 0.0
aicmo_gateway_breaker_state{capability="email_sending",provider="backup",state="half_open"} 0.0
aicmo_gateway_provider_health{capability="email_sending",health="healthy",provider="primary"} 0.0
aicmo_gateway_provider_health{capability="email_sending",health="degraded",provider="primary"} 0.0
aicmo_gateway_provider_health{capability="email_sending",health="unhealthy",provider="primary"} 1.0
aicmo_gateway_provider_health{capability="email_sending",health="unknown",provider="primary"} 0.0
aicmo_gateway_provider_health{capability="email_sending",health="healthy",provider="backup"} 1.0
aicmo_gateway_provider_health{capability="email_sending",health="degraded",provider="backup"} 0.0
aicmo_gateway_provider_health{capability="email_sending",health="unhealthy",provider="backup"} 0.0
aicmo_gateway_provider_health{capability="email_sending",health="unknown",provider="backup"} 0.0
aicmo_gateway_provider_failure_rate{capability="email_sending",provider="primary"} 1.0
aicmo_gateway_provider_failure_rate{capability="email_sending",provider="backup"} 0.0
aicmo_gateway_quota_limit{capability="email_sending",period="day",provider="backup"} 100.0
aicmo_gateway_quota_used{capability="email_sending",period="day",provider="backup"} 3.0
aicmo_gateway_quota_remaining{capability="email_sending",period="day",provider="backup"} 97.0
"""

RESETS_IN = re.compile(
    r'^aicmo_gateway_quota_resets_in_seconds\{capability="email_sending",period="day",'
    r'provider="backup"\} (\S+)$',
    re.MULTILINE,
)


def series(text: str) -> str:
    """The sample lines of an exposition, without comments, ``_created`` and the reset time."""
    return "".join(
        line + "\n"
        for line in text.splitlines()
        if line
        and not line.startswith("#")
        and "_created{" not in line
        and "_resets_in_seconds{" not in line
    )


def test_a_failover_chain_gives_the_exact_counters_and_histograms(
    registry, failover_gateway, send_three
):
    send_three(failover_gateway())

    assert series(generate_latest(registry).decode()) == COUNTERS_AND_HISTOGRAMS


def test_a_watched_gateway_adds_breaker_health_and_quota_gauges_read_at_scrape(
    registry, failover_gateway, send_three
):
    gateway = failover_gateway()
    aicmo_gateway_prometheus.current().watch(gateway)
    send_three(gateway)

    text = generate_latest(registry).decode()
    assert series(text) == COUNTERS_AND_HISTOGRAMS + GAUGES
    (resets_in,) = RESETS_IN.findall(text)
    assert 0 < float(resets_in) <= 86400


def test_the_plugins_endpoint_serves_the_same_series_over_http(failover_gateway, send_three):
    registry = CollectorRegistry()
    metrics = aicmo_gateway_prometheus.configure(registry, buckets=BUCKETS, port=0)
    try:
        assert metrics is not None and metrics.server is not None
        gateway = failover_gateway()
        metrics.watch(gateway)
        send_three(gateway)
        assert metrics.server.url == f"http://127.0.0.1:{metrics.server.port}/metrics"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(metrics.server.url, timeout=10) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/plain")
            body = answer.read().decode()
    finally:
        aicmo_gateway_prometheus.configure(enabled=False)
    assert series(body) == COUNTERS_AND_HISTOGRAMS + GAUGES


def test_closing_the_metrics_frees_the_endpoint_and_the_registry():
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    server = metrics.serve(0)
    metrics.close()
    assert series(generate_latest(registry).decode()) == ""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(OSError):
        opener.open(server.url, timeout=10)


def test_no_recipient_subject_or_call_id_appears_in_any_series(
    registry, failover_gateway, send_three
):
    gateway = failover_gateway()
    aicmo_gateway_prometheus.current().watch(gateway)
    call_ids = send_three(gateway)

    text = generate_latest(registry).decode()
    for private in (RECIPIENT, "example.com", SUBJECT, "Hello", *call_ids):
        assert private not in text


def test_disabled_metrics_record_nothing(failover_gateway, send_three):
    registry = CollectorRegistry()
    aicmo_gateway_prometheus.configure(registry)
    aicmo_gateway_prometheus.configure(enabled=False)
    send_three(failover_gateway())
    assert aicmo_gateway_prometheus.current() is None
    assert series(generate_latest(registry).decode()) == ""


def test_a_second_configure_replaces_the_first_on_the_same_registry(
    registry, failover_gateway, send_three
):
    send_three(failover_gateway())
    aicmo_gateway_prometheus.configure(registry, buckets=BUCKETS)
    assert series(generate_latest(registry).decode()) == ""


def test_a_bad_port_in_the_environment_says_what_to_set():
    with pytest.raises(ValueError, match=r"AICMO_GATEWAY_PROMETHEUS_PORT='x'.*0 to 65535"):
        PrometheusMetrics.from_env({"AICMO_GATEWAY_PROMETHEUS_PORT": "x"})


def test_the_environment_port_starts_the_endpoint_on_the_default_registry():
    metrics = PrometheusMetrics.from_env({"AICMO_GATEWAY_PROMETHEUS_PORT": "0"})
    try:
        assert metrics.server is not None and metrics.server.addr == "127.0.0.1"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(metrics.server.url, timeout=10) as answer:
            assert b"# TYPE aicmo_gateway_calls_total counter" in answer.read()
    finally:
        metrics.close()


def test_importing_the_entry_point_loads_no_prometheus_client():
    code = (
        "import sys, aicmo_gateway_prometheus.plugin;"
        "print(sorted(m for m in sys.modules if m.startswith(('prometheus', 'loguru'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_an_unwatched_or_collected_gateway_leaves_no_gauge(registry, failover_gateway):
    metrics = aicmo_gateway_prometheus.current()
    kept, dropped = failover_gateway(), failover_gateway()
    metrics.watch(kept)
    metrics.watch(dropped)
    metrics.unwatch(kept)
    del dropped  # held weakly: nothing keeps it alive
    gc.collect()
    assert "breaker_state" not in generate_latest(registry).decode()
