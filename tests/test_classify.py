"""Every row of the classification table, and on_error overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aicmo_gateway import (
    Ambiguous,
    AuthError,
    InvalidInput,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)
from aicmo_gateway.engine.classify import Kind, Reaction, classify

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "kind", "reaction", "is_failure", "cooldown"),
    [
        (InvalidInput("bad"), Kind.REJECTED, Reaction.STOP, False, None),
        (RateLimited("slow", retry_after=20), Kind.RATE_LIMITED, Reaction.FALLBACK, False, 20),
        (RateLimited("slow"), Kind.RATE_LIMITED, Reaction.FALLBACK, False, 30),
        (
            QuotaExhausted("spent", reset_at=NOW + timedelta(hours=2)),
            Kind.QUOTA,
            Reaction.FALLBACK,
            False,
            7200,
        ),
        (AuthError("535"), Kind.AUTH, Reaction.FALLBACK, True, 300),
        (Unavailable("refused"), Kind.NOT_PERFORMED, Reaction.FALLBACK, True, None),
        (ProviderError("odd"), Kind.NOT_PERFORMED, Reaction.FALLBACK, True, None),
        (Ambiguous("timeout after DATA"), Kind.AMBIGUOUS, Reaction.FALLBACK, True, None),
        (TimeoutError(), Kind.AMBIGUOUS, Reaction.FALLBACK, True, None),
        (RuntimeError("bug"), Kind.FAILURE, Reaction.FALLBACK, True, None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_each_error_class_maps_to_its_reaction(error, kind, reaction, is_failure, cooldown):
    verdict = classify(error, now=NOW)
    assert verdict.kind is kind
    assert verdict.reaction is reaction
    assert verdict.is_failure is is_failure
    assert verdict.cooldown == cooldown


def test_a_quota_reset_in_the_past_cools_down_for_zero_seconds():
    verdict = classify(QuotaExhausted(reset_at=NOW - timedelta(minutes=1)), now=NOW)
    assert verdict.cooldown == 0


def test_an_override_changes_the_reaction_by_class_name():
    verdict = classify(Unavailable("x"), overrides={"Unavailable": Reaction.RETRY})
    assert verdict.reaction is Reaction.RETRY


def test_an_override_on_a_base_class_applies_to_subclasses():
    verdict = classify(AuthError("x"), overrides={"Unavailable": Reaction.STOP})
    assert verdict.reaction is Reaction.STOP


def test_an_exception_override_catches_unclassified_errors_only():
    overrides = {"Exception": Reaction.STOP}
    assert classify(KeyError("x"), overrides=overrides).reaction is Reaction.STOP
    assert classify(Unavailable("x"), overrides=overrides).reaction is Reaction.FALLBACK


def test_invalid_input_always_stops_whatever_the_overrides():
    verdict = classify(InvalidInput("x"), overrides={"Exception": Reaction.FALLBACK})
    assert verdict.reaction is Reaction.STOP
