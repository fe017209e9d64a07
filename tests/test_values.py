"""The small core value types: Secret, ProviderType and its traits, Outcome."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aicmo_gateway import (
    Action,
    Attempt,
    Idempotency,
    Outcome,
    OutcomeError,
    ProviderType,
    Quota,
    RateLimit,
    Secret,
    Status,
)

# -- Secret -----------------------------------------------------------------------------


def test_a_secret_reveals_its_value_only_on_request():
    assert Secret("hunter2").reveal() == "hunter2"


@pytest.mark.parametrize(
    "show", [repr, str, lambda s: f"{s}", lambda s: f"{s!r}", lambda s: f"{s:>20}", "{}".format]
)
def test_a_secret_never_shows_its_value(show):
    assert "hunter2" not in show(Secret("hunter2"))
    assert "********" in show(Secret("hunter2"))


def test_a_secret_inside_a_record_repr_stays_masked():
    @attrs.frozen
    class Settings:
        user: str
        password: Secret

    assert "hunter2" not in repr(Settings(user="ann", password=Secret("hunter2")))


def test_a_secret_inside_an_error_message_stays_masked():
    error = ValueError(f"login failed with {Secret('hunter2')}")
    assert "hunter2" not in str(error)


def test_secrets_are_equal_by_value_and_hash_alike():
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert hash(Secret("a")) == hash(Secret("a"))
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2


def test_a_secret_is_never_equal_to_its_plain_text():
    assert Secret("a") != "a"
    assert "a" != Secret("a")  # noqa: SIM300 - the reflected comparison is the point


def test_a_secret_wrapping_a_secret_holds_the_inner_value():
    assert Secret(Secret("x")).reveal() == "x"


@pytest.mark.parametrize("value", [None, 42, b"bytes"])
def test_a_secret_of_something_other_than_text_is_refused(value):
    with pytest.raises(TypeError, match=f"Secret expects a str, got {type(value).__name__}"):
        Secret(value)


def test_an_empty_secret_is_falsy():
    assert not Secret("")
    assert Secret("x")


def test_a_secret_cannot_be_pickled():
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret("x"))


def test_a_secret_can_be_copied_and_deep_copied():
    secret = Secret("x")
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"password": secret})["password"] is secret


def test_a_secret_is_immutable():
    secret = Secret("x")
    with pytest.raises(AttributeError, match="immutable"):
        secret._value = "y"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del secret._value
    assert secret.reveal() == "x"


@given(st.text(min_size=1))
def test_no_secret_value_appears_in_its_repr_or_str(value):
    secret = Secret(value)
    assert secret.reveal() == value
    assert repr(secret) == "Secret('********')"
    assert str(secret) == f"{secret}" == "********"


# -- ProviderType --------------------------------------------------------------------


class PlainProvider:
    def __init__(self, **settings):
        self.settings = settings


@attrs.frozen
class AcmeSender:
    api_key: Secret
    region: str = "eu"

    def check(self) -> None:
        pass


def make_plain(**settings):
    return PlainProvider(**settings)


@pytest.mark.parametrize("name", ["smtp", "acme-mail", "acme_mail", "a", "x9", "a" * 64])
def test_valid_provider_type_names_are_accepted(name):
    assert ProviderType(name=name, factory=make_plain).name == name


@pytest.mark.parametrize(
    "name", ["", "SMTP", "9lives", "-x", "acme mail", "acme.mail", "a" * 65, 3]
)
def test_an_invalid_provider_type_name_is_refused_with_the_rule(name):
    with pytest.raises(ValueError, match="is not a valid provider type name") as info:
        ProviderType(name=name, factory=make_plain)
    assert str(info.value).startswith("ProviderType.name: ")
    assert "lower-case letters, digits, '_' or '-', starting with a letter" in str(info.value)


def test_a_factory_that_is_not_callable_is_refused():
    with pytest.raises(TypeError, match=r"ProviderType\.factory: 'acme' is not callable"):
        ProviderType(name="acme", factory="acme")


def test_name_factory_and_summary_may_be_positional():
    provider_type = ProviderType("acme", make_plain, "Acme Mail HTTP API")
    assert (provider_type.name, provider_type.summary) == ("acme", "Acme Mail HTTP API")


def test_traits_are_keyword_only():
    with pytest.raises(TypeError):
        ProviderType("acme", make_plain, "summary", None)  # type: ignore[misc]


def test_trait_defaults():
    provider_type = ProviderType(name="acme", factory=make_plain)
    assert provider_type.summary == ""
    assert provider_type.settings is None
    assert provider_type.batch_size is None
    assert provider_type.idempotency is Idempotency.NONE
    assert provider_type.rate_limit is None
    assert provider_type.quotas == ()
    assert provider_type.has_check is False
    assert provider_type.priority == 0
    assert provider_type.port is None
    assert provider_type.plugin is None
    assert provider_type.distribution is None
    assert provider_type.version is None


def test_settings_are_derived_from_an_attrs_factory():
    assert ProviderType(name="acme", factory=AcmeSender).settings is AcmeSender


def test_explicit_settings_win_over_the_factory():
    @attrs.frozen
    class OtherSettings:
        token: Secret

    provider_type = ProviderType(name="acme", factory=AcmeSender, settings=OtherSettings)
    assert provider_type.settings is OtherSettings


def test_a_plain_factory_has_no_derived_settings():
    assert ProviderType(name="plain", factory=PlainProvider).settings is None


def test_has_check_is_derived_from_the_factory():
    assert ProviderType(name="acme", factory=AcmeSender).has_check is True
    assert ProviderType(name="plain", factory=PlainProvider).has_check is False


def test_an_explicit_has_check_wins():
    assert ProviderType(name="acme", factory=AcmeSender, has_check=False).has_check is False


def test_idempotency_is_converted_from_its_value():
    provider_type = ProviderType(name="smtp", factory=make_plain, idempotency="message_id")
    assert provider_type.idempotency is Idempotency.MESSAGE_ID


def test_an_unknown_idempotency_is_refused_listing_the_kinds():
    with pytest.raises(ValueError, match=r"ProviderType\.idempotency: 'sometimes'") as info:
        ProviderType(name="smtp", factory=make_plain, idempotency="sometimes")
    for kind in Idempotency:
        assert repr(kind.value) in str(info.value)


def test_quotas_take_one_quota_or_several():
    daily = Quota(limit=500, period="day")
    hourly = Quota(limit=50, period="hour")
    assert ProviderType(name="a", factory=make_plain, quotas=daily).quotas == (daily,)
    assert ProviderType(name="a", factory=make_plain, quotas=[daily, hourly]).quotas == (
        daily,
        hourly,
    )


def test_quotas_that_are_not_quota_records_are_refused():
    with pytest.raises(TypeError, match=r"ProviderType\.quotas: expected Quota records, got dict"):
        ProviderType(name="a", factory=make_plain, quotas=[{"limit": 5, "period": "day"}])


def test_a_rate_limit_that_is_not_a_rate_limit_record_is_refused():
    with pytest.raises(TypeError, match=r"ProviderType\.rate_limit: expected a RateLimit"):
        ProviderType(name="a", factory=make_plain, rate_limit=10)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_a_batch_size_must_be_a_whole_number_of_at_least_one(batch_size):
    with pytest.raises((TypeError, ValueError), match=r"ProviderType\.batch_size"):
        ProviderType(name="a", factory=make_plain, batch_size=batch_size)


def test_traits_are_plain_data():
    provider_type = ProviderType(
        name="acme",
        factory=AcmeSender,
        batch_size=100,
        idempotency=Idempotency.KEY_HEADER,
        rate_limit=RateLimit(per_second=5, burst=10),
        quotas=[Quota(limit=1000, period="day")],
        priority=3,
    )
    assert provider_type.traits == {
        "batch_size": 100,
        "idempotency": "key_header",
        "rate_limit": {"per_second": 5, "burst": 10},
        "quotas": [{"limit": 1000, "period": "day"}],
        "has_check": True,
        "priority": 3,
        "simulates": False,
        "min_attempt_timeout": None,
    }
    assert attrs.evolve(provider_type, min_attempt_timeout=30.0).traits["min_attempt_timeout"] == 30
    polled = attrs.evolve(provider_type, min_attempt_timeout=lambda settings: 5.0)
    assert polled.traits["min_attempt_timeout"] == "from settings"


def test_discovery_fills_in_the_origin_with_evolve():
    provider_type = ProviderType(name="acme", factory=make_plain)
    found = attrs.evolve(provider_type, port="email_sending", plugin="acme", version="1.2")
    assert (found.port, found.plugin, found.version) == ("email_sending", "acme", "1.2")


def test_a_provider_type_is_frozen():
    provider_type = ProviderType(name="acme", factory=make_plain)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        provider_type.name = "other"  # type: ignore[misc]


# -- RateLimit and Quota --------------------------------------------------------------


def test_a_rate_limit_has_a_burst_of_one_by_default():
    assert RateLimit(per_second=0.5).burst == 1


@pytest.mark.parametrize("per_second", [0, -1, float("nan")])
def test_a_rate_limit_must_be_positive(per_second):
    with pytest.raises(ValueError, match=r"RateLimit\.per_second: .* must be greater than 0"):
        RateLimit(per_second=per_second)


@pytest.mark.parametrize("per_second", ["5", None, True])
def test_a_rate_limit_must_be_a_number(per_second):
    with pytest.raises(TypeError, match=r"RateLimit\.per_second: expected a number"):
        RateLimit(per_second=per_second)


@pytest.mark.parametrize("burst", [0, -3])
def test_a_burst_below_one_is_refused(burst):
    with pytest.raises(ValueError, match=r"RateLimit\.burst: .* must be at least 1"):
        RateLimit(per_second=1, burst=burst)


def test_a_fractional_burst_is_refused():
    with pytest.raises(TypeError, match=r"RateLimit\.burst: expected a whole number"):
        RateLimit(per_second=1, burst=1.5)


@pytest.mark.parametrize("period", ["second", "minute", "hour", "day"])
def test_the_quota_periods_are_accepted(period):
    assert Quota(limit=10, period=period).period == period


def test_a_quota_of_zero_is_allowed():
    assert Quota(limit=0, period="day").limit == 0


def test_a_negative_quota_is_refused():
    with pytest.raises(ValueError, match=r"Quota\.limit: -1 must be at least 0"):
        Quota(limit=-1, period="day")


@pytest.mark.parametrize("period", ["week", "Day", "daily", ""])
def test_an_unknown_quota_period_is_refused_listing_the_periods(period):
    with pytest.raises(ValueError, match=r"Quota\.period: .* use one of second, minute, hour, day"):
        Quota(limit=1, period=period)


def test_rate_limits_and_quotas_are_frozen():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        RateLimit(per_second=1).burst = 2  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Quota(limit=1, period="day").limit = 2  # type: ignore[misc]


# -- Outcome ------------------------------------------------------------------------------


def attempt(action=Action.DONE, error=None):
    return Attempt(
        provider="gmail",
        provider_type="smtp",
        started_at=datetime(2024, 5, 1, tzinfo=UTC),
        duration=0.25,
        action=action,
        error=error,
    )


def outcome(status=Status.OK, value="receipt", reason=None, attempts=None):
    return Outcome(
        status=status,
        value=value,
        provider="gmail" if status is Status.OK else None,
        attempts=[attempt()] if attempts is None else attempts,
        call_id="call-1",
        capability="email_sending",
        operation="send",
        reason=reason,
    )


def test_unwrap_returns_the_value_of_an_ok_outcome():
    assert outcome().unwrap() == "receipt"
    assert outcome().ok is True


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.OK])
def test_unwrap_raises_outcome_error_for_every_other_status(status):
    result = outcome(status=status, value=None, reason="every provider refused")
    assert result.ok is False
    with pytest.raises(OutcomeError) as info:
        result.unwrap()
    assert info.value.outcome is result
    assert str(info.value) == (
        f"email_sending.send ended {status.value}: every provider refused (call call-1)"
    )


def test_an_outcome_error_without_a_reason_says_so():
    with pytest.raises(OutcomeError, match="ended failed: no reason given"):
        outcome(status=Status.FAILED, value=None).unwrap()


def test_an_outcome_error_survives_pickling():
    error = OutcomeError(outcome(status=Status.DEFERRED, value=None, reason="stored"))
    copy_ = pickle.loads(pickle.dumps(error))
    assert str(copy_) == str(error)
    assert copy_.outcome == error.outcome


def test_a_status_given_as_text_is_converted():
    result = outcome(status="ok")
    assert result.status is Status.OK
    assert result.unwrap() == "receipt"


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="'fine' is not a valid Status"):
        outcome(status="fine")


def test_attempts_are_kept_as_a_tuple():
    result = outcome(attempts=[attempt(Action.FALLBACK, "Unavailable"), attempt()])
    assert isinstance(result.attempts, tuple)
    assert [a.action for a in result.attempts] == [Action.FALLBACK, Action.DONE]


def test_an_attempt_is_ok_only_when_it_answered_without_error():
    assert attempt().ok is True
    assert attempt(Action.FALLBACK, "Unavailable").ok is False
    assert attempt(Action.SKIP).ok is False
    assert attempt(Action.DONE, "Ambiguous").ok is False


def test_an_attempt_action_given_as_text_is_converted():
    assert attempt(action="done").action is Action.DONE
    assert attempt(action="done").ok is True


def test_every_outcome_field_after_status_is_keyword_only():
    with pytest.raises(TypeError):
        Outcome(Status.OK, "receipt", "gmail", (), "call-1", "email_sending", "send")  # type: ignore[misc]
    built = Outcome(
        "ok",
        value="receipt",
        provider="gmail",
        attempts=[],
        call_id="call-1",
        capability="email_sending",
        operation="send",
    )
    assert built.status is Status.OK and built.attempts == ()


def test_an_outcome_is_frozen():
    result = outcome()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.status = Status.FAILED  # type: ignore[misc]
