"""The spans of a failover chain, as the OpenTelemetry SDK's in-memory exporter receives them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import aicmo_gateway_otel
import aicmo_gateway_otel.plugin
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from aicmo_gateway import CallRecord, Gateway, Outcome, Registry
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing import FakeProvider, fake_config, fake_plugin, run_virtual
from aicmo_gateway.testing.profiles import fast_failure

SECRET = "sk-live-9f8e7d6c5b4a"  # as in conftest.py
RELAY_ADDRESS = "relay.internal.example:2525"
RECIPIENT = "lead@example.com"
SUBJECT = "A very private subject line"


def ns(moment: datetime) -> int:
    """Nanoseconds since the epoch (the records have microseconds)."""
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def send_three(gateway: Gateway, around: str | None = None) -> None:
    """Two sends fail over from the primary (tripping its breaker), the third skips it."""

    async def sends() -> None:
        for n in range(3):
            message = EmailMessage(to=RECIPIENT, subject=SUBJECT, text=f"Hello {n}")
            await gateway.email_sending.send(message, idempotency_key=f"{RECIPIENT}:{n}")

    async def run() -> None:
        if around is None:
            await sends()
        else:
            provider = aicmo_gateway_otel.current().tracer_provider
            with trace.get_tracer("app", tracer_provider=provider).start_as_current_span(around):
                await sends()
        await gateway.aclose()

    run_virtual(run(), start=time.monotonic())


def tree(spans: tuple[ReadableSpan, ...]) -> list[tuple[str, list[str]]]:
    """Each root span's name with its children's names, in the order they started (spans that
    started at the same instant, as a fast failure and its fallback do on a virtual clock, in
    the order the plugin made them: the attempts' order)."""
    ordered = sorted(spans, key=lambda s: s.start_time)  # stable: keeps the export order
    return [
        (
            root.name,
            [c.name for c in ordered if c.parent and c.parent.span_id == root.context.span_id],
        )
        for root in ordered
        if root.parent is None
    ]


def test_each_call_is_a_span_with_a_child_span_per_attempt(exporter, failover_gateway):
    records: list[CallRecord] = []
    send_three(failover_gateway(records))

    spans = exporter.get_finished_spans()
    assert tree(spans) == [
        ("email_sending.send", ["email_sending.send primary", "email_sending.send backup"]),
        ("email_sending.send", ["email_sending.send primary", "email_sending.send backup"]),
        ("email_sending.send", ["email_sending.send backup"]),
    ]
    assert len(spans) == 8
    roots = [s for s in spans if s.parent is None]
    for root in roots:
        children = [s for s in spans if s.parent and s.parent.span_id == root.context.span_id]
        assert {c.context.trace_id for c in children} == {root.context.trace_id}
        assert root.kind is SpanKind.INTERNAL and {c.kind for c in children} == {SpanKind.CLIENT}


def test_span_times_are_the_records_start_and_duration(exporter, failover_gateway):
    records: list[CallRecord] = []
    send_three(failover_gateway(records))

    spans = exporter.get_finished_spans()
    by_call = {s.attributes["aicmo.call_id"]: s for s in spans if s.parent is None}
    for record in records:
        root = by_call[record.outcome.call_id]
        assert root.start_time == ns(record.started_at)
        assert root.end_time == ns(record.started_at) + round(record.duration * 1e9)
        children = sorted(
            (s for s in spans if s.parent and s.parent.span_id == root.context.span_id),
            key=lambda s: s.start_time,
        )
        made = [a for a in record.outcome.attempts if a.action != "skip"]
        assert [(c.start_time, c.end_time) for c in children] == [
            (ns(a.started_at), ns(a.started_at) + round(a.duration * 1e9)) for a in made
        ]
    # the backup answers in 0.25 s (virtual time): its spans last exactly that
    backup = [s for s in spans if s.name == "email_sending.send backup"]
    assert [s.end_time - s.start_time for s in backup] == [250_000_000] * 3


def test_attributes_name_capability_operation_provider_outcome_and_error_class(
    exporter, failover_gateway
):
    records: list[CallRecord] = []
    send_three(failover_gateway(records))

    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time)
    first = records[0].outcome
    root = next(s for s in spans if s.attributes.get("aicmo.call_id") == first.call_id)
    assert dict(root.attributes) == {
        "aicmo.capability": "email_sending",
        "aicmo.operation": "send",
        "aicmo.call_id": first.call_id,
        "aicmo.outcome.status": "ok",
        "aicmo.attempts": 2,
        "aicmo.dry_run": False,
        "aicmo.replayed": False,
        "aicmo.provider": "backup",
    }
    assert root.status.status_code is StatusCode.UNSET
    primary, backup = (s for s in spans if s.parent and s.parent.span_id == root.context.span_id)
    assert dict(primary.attributes) == {
        "aicmo.capability": "email_sending",
        "aicmo.operation": "send",
        "aicmo.provider": "primary",
        "aicmo.provider_type": "fake",
        "aicmo.attempt.action": "fallback",
        "error.type": "Unavailable",
    }
    assert primary.status.status_code is StatusCode.ERROR
    assert primary.status.description == "Unavailable"
    assert dict(backup.attributes) == {
        "aicmo.capability": "email_sending",
        "aicmo.operation": "send",
        "aicmo.provider": "backup",
        "aicmo.provider_type": "fake",
        "aicmo.attempt.action": "done",
    }
    assert backup.status.status_code is StatusCode.UNSET


def test_a_skipped_provider_is_an_event_on_the_call_span(exporter, failover_gateway):
    records: list[CallRecord] = []
    send_three(failover_gateway(records))

    third = records[2].outcome
    (skip,) = [a for a in third.attempts if a.action == "skip"]
    root = next(
        s
        for s in exporter.get_finished_spans()
        if s.attributes.get("aicmo.call_id") == third.call_id
    )
    assert [(e.name, dict(e.attributes), e.timestamp) for e in root.events] == [
        (
            "aicmo.provider_skipped",
            {"aicmo.provider": "primary", "aicmo.provider_type": "fake"},
            ns(skip.started_at),
        )
    ]


def test_a_call_that_fails_everywhere_is_an_error_span_with_the_last_error_class(exporter):
    registry = Registry.from_plugins(
        {
            "fakes": fake_plugin(only=FakeProvider(fast_failure())),
            "otel": aicmo_gateway_otel.plugin,
        },
        strict=True,
    )
    gateway = Gateway.from_config(fake_config("email_sending", "only"), registry=registry, env={})

    async def run() -> Outcome:
        outcome = await gateway.email_sending.send(
            EmailMessage(to=RECIPIENT, subject=SUBJECT, text="x")
        )
        await gateway.aclose()
        return outcome

    assert run_virtual(run()).status == "failed"
    (root,) = [s for s in exporter.get_finished_spans() if s.parent is None]
    assert root.attributes["aicmo.outcome.status"] == "failed"
    assert root.attributes["error.type"] == "Unavailable"
    assert "aicmo.provider" not in root.attributes
    assert root.status.status_code is StatusCode.ERROR
    assert root.status.description == "the call ended failed"


def test_the_call_span_is_a_child_of_the_applications_current_span(exporter, failover_gateway):
    send_three(failover_gateway([]), around="import leads")

    spans = exporter.get_finished_spans()
    (job,) = [s for s in spans if s.name == "import leads"]
    calls = [s for s in spans if s.name == "email_sending.send"]
    assert len(calls) == 3
    assert {c.parent.span_id for c in calls if c.parent} == {job.context.span_id}
    assert {c.context.trace_id for c in calls} == {job.context.trace_id}


def test_no_secret_address_or_content_appears_in_any_span(exporter, failover_gateway):
    records: list[CallRecord] = []
    send_three(failover_gateway(records))
    # the records carry the provider's error text (with the secret and the address in it) ...
    assert any(SECRET in (a.detail or "") for r in records for a in r.outcome.attempts)
    # ... and no span does

    dumped = "\n".join(s.to_json() for s in exporter.get_finished_spans())
    for private in (SECRET, RELAY_ADDRESS, RECIPIENT, "example", SUBJECT, "Hello", "refused"):
        assert private not in dumped


def test_disabled_tracing_records_nothing(exporter, failover_gateway):
    aicmo_gateway_otel.configure(enabled=False)
    send_three(failover_gateway([]))
    assert exporter.get_finished_spans() == ()


def test_without_configure_the_global_tracer_provider_is_used():
    script = """
import json, sys, time
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import aicmo_gateway_otel.plugin
from aicmo_gateway import Gateway, Registry
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing import FakeProvider, fake_config, fake_plugin, run_virtual

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
registry = Registry.from_plugins(
    {"fakes": fake_plugin(only=FakeProvider()), "otel": aicmo_gateway_otel.plugin}, strict=True
)
gateway = Gateway.from_config(fake_config("email_sending", "only"), registry=registry, env={})
run_virtual(gateway.email_sending.send(EmailMessage(to="a@example.com", subject="s", text="t")))
run_virtual(gateway.aclose())
print(json.dumps([s.name for s in exporter.get_finished_spans()]))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["email_sending.send only", "email_sending.send"]


def test_importing_the_entry_point_loads_no_opentelemetry():
    code = (
        "import sys, aicmo_gateway_otel.plugin;"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'loguru'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
