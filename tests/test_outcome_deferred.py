"""Outcomes made by the engine build their attempt records only when someone reads them.

Reading ``attempts`` in any way (the attribute, ``==``, ``repr``, pickling, ``attrs.evolve``,
the audit trail's ``explain``) gives the same records an eagerly built outcome holds.
"""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from aicmo_gateway import Action, Attempt, Outcome, Status, Unavailable
from aicmo_gateway.outcome import deferred_outcome
from aicmo_gateway.state.audit import AuditTrail, explain
from aicmo_gateway.testing import run_virtual

from .test_chain import MESSAGE, gateway_for

WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ATTEMPTS = (
    Attempt("p0", "scripted", WHEN, 0.5, Action.FALLBACK, "Unavailable", "down"),
    Attempt("p1", "scripted", WHEN + timedelta(seconds=0.5), 0.1, Action.DONE),
)


def deferred(builds: list[int]) -> Outcome:
    def build() -> tuple[Attempt, ...]:
        builds.append(1)
        return ATTEMPTS

    return deferred_outcome(Status.OK, "v", "p1", build, "c1", "email_sending", "send", "k", None)


EAGER = Outcome(
    Status.OK,
    value="v",
    provider="p1",
    attempts=ATTEMPTS,
    call_id="c1",
    capability="email_sending",
    operation="send",
    idempotency_key="k",
)


def test_a_deferred_outcome_builds_its_attempts_once_on_first_read() -> None:
    builds: list[int] = []
    outcome = deferred(builds)
    assert builds == []
    assert outcome.attempts == ATTEMPTS
    assert outcome.attempts is outcome.attempts
    assert builds == [1]


@pytest.mark.parametrize(
    "read",
    [
        lambda o: o == EAGER,
        lambda o: repr(o) == repr(EAGER),
        lambda o: pickle.loads(pickle.dumps(o)) == EAGER,
        lambda o: copy.copy(o) == EAGER,
        lambda o: attrs.evolve(o, call_id="c2") == attrs.evolve(EAGER, call_id="c2"),
        lambda o: attrs.asdict(o) == attrs.asdict(EAGER),
    ],
    ids=["eq", "repr", "pickle", "copy", "evolve", "asdict"],
)
def test_a_deferred_outcome_is_indistinguishable_from_an_eager_one(read) -> None:  # type: ignore[no-untyped-def]
    builds: list[int] = []
    assert read(deferred(builds))
    assert builds == [1]
    assert type(deferred(builds)) is Outcome
    assert [f.name for f in attrs.fields(Outcome)][:4] == [
        "status",
        "value",
        "provider",
        "attempts",
    ]


def test_other_missing_attributes_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = deferred([]).nope  # type: ignore[attr-defined]


def test_attempt_start_times_follow_the_loop_clock_from_the_call_start() -> None:
    """Each attempt's ``started_at`` is the call's start plus the loop time since."""
    gateway = gateway_for("email_sending", [Unavailable("down")], ["ok"])
    gateway.email_sending.chain.slots[0].provider.delay = 2.0

    async def go() -> Outcome:
        return await gateway.email_sending.send(MESSAGE)

    before = datetime.now(UTC)
    outcome = run_virtual(go())
    first, second = outcome.attempts
    assert (first.provider, first.action, second.provider, second.action) == (
        "p0",
        Action.FALLBACK,
        "p1",
        Action.DONE,
    )
    assert first.duration == pytest.approx(2.0)
    assert before <= first.started_at <= datetime.now(UTC)
    # the virtual 2 s the first attempt took show in the second one's start time
    gap = (second.started_at - first.started_at).total_seconds()
    assert gap == pytest.approx(2.0, abs=0.01)


async def test_the_audit_trail_explains_a_call_whose_attempts_nobody_read() -> None:
    gateway = gateway_for("email_sending", [Unavailable("down")], ["ok"])
    outcome = await gateway.email_sending.send(MESSAGE)
    record = gateway.email_sending.chain.audit.get(outcome.call_id)
    assert record is not None and record.outcome is outcome
    assert record.started_at.tzinfo is UTC
    text = explain(record)
    assert "1. tried p0 (scripted)" in text and "Unavailable: down -> fallback" in text
    assert "2. tried p1 (scripted)" in text and "ok -> done" in text


def test_the_audit_trail_keeps_the_latest_calls_up_to_its_size() -> None:
    trail = AuditTrail(size=3)
    outcomes = [attrs.evolve(EAGER, call_id=f"c{i}") for i in range(5)]
    for i, outcome in enumerate(outcomes):
        trail.add_call(outcome, WHEN.timestamp() + i, 0.25)
    assert len(trail) == 3
    assert [r.outcome.call_id for r in trail.recent()] == ["c2", "c3", "c4"]
    assert [r.outcome.call_id for r in trail.recent(2)] == ["c3", "c4"]
    assert trail.get("c1") is None
    record = trail.get("c3")
    assert record is not None and record.started_at == WHEN + timedelta(seconds=3)
    assert record.duration == 0.25 and not record.dry_run
    empty = AuditTrail(size=0)
    empty.add_call(EAGER, WHEN, 0.1)
    assert len(empty) == 0 and empty.recent() == [] and empty.get("c1") is None
