"""Every row of the classification table, and on_error overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aicmo_gateway import (
    Action,
    Ambiguous,
    AuthError,
    InvalidInput,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Status,
    Unavailable,
)
from aicmo_gateway.engine.classify import classify

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "status", "action", "is_failure", "cooldown"),
    [
        (InvalidInput("bad"), Status.REJECTED, Action.STOP, False, None),
        (RateLimited("slow", retry_after=20), Status.FAILED, Action.FALLBACK, False, 20),
        (RateLimited("slow"), Status.FAILED, Action.FALLBACK, False, 30),
        (
            QuotaExhausted("spent", reset_at=NOW + timedelta(hours=2)),
            Status.FAILED,
            Action.FALLBACK,
            False,
            7200,
        ),
        (AuthError("535"), Status.FAILED, Action.FALLBACK, True, 300),
        (Unavailable("refused"), Status.FAILED, Action.FALLBACK, True, None),
        (ProviderError("odd"), Status.FAILED, Action.FALLBACK, True, None),
        (Ambiguous("timeout after DATA"), Status.UNCERTAIN, Action.FALLBACK, True, None),
        (TimeoutError(), Status.UNCERTAIN, Action.FALLBACK, True, None),
        (RuntimeError("bug"), Status.FAILED, Action.FALLBACK, True, None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_each_error_class_maps_to_its_meaning_and_action(
    error, status, action, is_failure, cooldown
):
    verdict = classify(error, now=NOW)
    assert verdict.status is status
    assert verdict.action is action
    assert verdict.is_failure is is_failure
    assert verdict.cooldown == cooldown


def test_a_quota_reset_in_the_past_cools_down_for_zero_seconds():
    verdict = classify(QuotaExhausted(reset_at=NOW - timedelta(minutes=1)), now=NOW)
    assert verdict.cooldown == 0


def test_an_override_changes_the_reaction_by_class_name():
    verdict = classify(Unavailable("x"), overrides={"Unavailable": Action.RETRY})
    assert verdict.action is Action.RETRY


def test_an_override_on_a_base_class_applies_to_subclasses():
    verdict = classify(AuthError("x"), overrides={"Unavailable": Action.STOP})
    assert verdict.action is Action.STOP


def test_an_exception_override_catches_unclassified_errors_only():
    overrides = {"Exception": Action.STOP}
    assert classify(KeyError("x"), overrides=overrides).action is Action.STOP
    assert classify(Unavailable("x"), overrides=overrides).action is Action.FALLBACK


def test_invalid_input_always_stops_whatever_the_overrides():
    verdict = classify(InvalidInput("x"), overrides={"Exception": Action.FALLBACK})
    assert verdict.action is Action.STOP
