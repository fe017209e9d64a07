"""Config errors for the chain and provider policies: every key names its fix."""

from __future__ import annotations

import pytest

from aicmo_gateway import ConfigError, Gateway, Quota, RateLimit
from aicmo_gateway.config.load import load_config
from aicmo_gateway.plugins.registry import Registry


@pytest.fixture(scope="module")
def registry():
    return Registry.discover(env={"AICMO_GATEWAY_LOAD_PLUGINS": ""})


def config(cap="email_sending", cap_extra=None, provider_extra=None, ptype="noop"):
    return {
        "capabilities": {cap: {"providers": ["p"], **(cap_extra or {})}},
        "providers": {"p": {"type": ptype, **(provider_extra or {})}},
    }


@pytest.mark.parametrize(
    ("data", "key", "says", "fix"),
    [
        (
            config(cap_extra={"order": "fastest"}),
            "capabilities.email_sending.order",
            "is not a valid order",
            "config, health",
        ),
        (
            config(cap_extra={"when_all_down": "panic"}),
            "capabilities.email_sending.when_all_down",
            "is not a valid when_all_down",
            "fail, wait, closest",
        ),
        (
            config(cap_extra={"strategy": "waterfall"}),
            "capabilities.email_sending.strategy",
            "is for reads, and this capability writes",
            '"fanout"',
        ),
        (
            config("email_verification", {"strategy": "fanout"}),
            "capabilities.email_verification.strategy",
            "only reads",
            '"hedge"',
        ),
        (
            config(cap_extra={"on_error": {"Unavailible": "retry"}}),
            "capabilities.email_sending.on_error.Unavailible",
            "is not an error the chain reacts to",
            "Unavailable",
        ),
        (
            config(cap_extra={"on_error": {"Unavailable": "again"}}),
            "capabilities.email_sending.on_error.Unavailable",
            "is not a reaction",
            "fallback, retry, stop",
        ),
        (
            config(cap_extra={"retry_budget": {"ratio": -1}}),
            "capabilities.email_sending.retry_budget.ratio",
            "-1 is out of range: use a number from 0 to 100",
            "ratio = 0.2",
        ),
        (
            config(cap_extra={"max_attempts": 0}),
            "capabilities.email_sending.max_attempts",
            "0 is out of range: use a whole number from 1 to 1000",
            "max_attempts = 3",
        ),
        (
            config(cap_extra={"retries": -2}),
            "capabilities.email_sending.retries",
            "-2 is out of range: use a whole number from 0 to 100",
            "retries = 2",
        ),
        (
            config("email_verification", {"strategy": "hedge", "hedge_delay": "soon"}),
            "capabilities.email_verification.hedge_delay",
            "is not a duration",
            'hedge_delay = "200ms"',
        ),
        (
            config(provider_extra={"rate_limit": "fast"}),
            "providers.p.rate_limit",
            "is not a rate",
            '"10/s"',
        ),
        (
            config(provider_extra={"daily_quota": -5}),
            "providers.p.daily_quota",
            "-5 is out of range: use a whole number from 0 to 1000000000",
            "daily_quota = 500",
        ),
        (
            config(provider_extra={"quotas": {"fortnight": 3}}),
            "providers.p.quotas.fortnight",
            "is not a period",
            "second, minute, hour, day",
        ),
        (
            config(provider_extra={"health": {"consecutive_failure": 3}}),
            "providers.p.health.consecutive_failure",
            "unknown health key",
            "did you mean 'consecutive_failures'",
        ),
        (
            config(provider_extra={"health": {"ewma_alpha": 2}}),
            "providers.p.health.ewma_alpha",
            "out of range",
            "ewma_alpha = 0.2",
        ),
        (
            {"gateway": {"state_dir": 3}},
            "gateway.state_dir",
            "expected a folder path",
            'state_dir = ".aicmo-gateway"',
        ),
        (
            {"gateway": {"audit_size": -1}},
            "gateway.audit_size",
            "-1 is out of range: use a whole number from 0 to 1000000",
            "audit_size = 1000",
        ),
    ],
)
def test_a_bad_policy_setting_names_the_key_and_fix(registry, data, key, says, fix):
    with pytest.raises(ConfigError) as info:
        load_config(data, env={}, registry=registry)
    matching = [p for p in info.value.problems if p.key == key]
    assert matching, str(info.value)
    assert says in matching[0].message
    assert fix in matching[0].fix


def test_policy_keys_are_not_passed_to_the_provider_factory(registry):
    gateway = Gateway.from_config(
        config(
            provider_extra={
                "daily_quota": 500,
                "rate_limit": "10/s",
                "health": {"consecutive_failures": 3},
                "on_error": {"Unavailable": "retry"},
            }
        ),
        registry=registry,
        env={},
    )
    (slot,) = gateway.chains["email_sending"].slots
    assert slot.policy.quotas == (Quota(limit=500, period="day"),)
    assert slot.policy.rate_limit == RateLimit(per_second=10, burst=10)
    assert slot.policy.health.consecutive_failures == 3
    assert slot.policy.on_error == {"Unavailable": "retry"}


def test_capability_policy_defaults_are_safe_for_interactive_calls(registry):
    cap = load_config(config(), env={}, registry=registry).capabilities["email_sending"]
    assert cap.policy.deadline == 30.0
    assert cap.policy.attempt_timeout == 10.0
    assert cap.policy.when_all_down == "fail"
    assert cap.policy.fallback_after_ambiguous == "never"
    assert cap.policy.retries == 0


def test_off_disables_a_deadline(registry):
    cap = load_config(config(cap_extra={"deadline": "off"}), env={}, registry=registry)
    assert cap.capabilities["email_sending"].policy.deadline is None


def test_a_relative_state_dir_is_relative_to_the_config_file(tmp_path, registry):
    path = tmp_path / "conf" / "aicmo-gateway.toml"
    path.parent.mkdir()
    path.write_text('[gateway]\nstate_dir = "state"\n', encoding="utf-8")
    assert load_config(path, env={}, registry=registry).state_dir == tmp_path / "conf" / "state"


def test_limits_a_provider_instance_reports_apply_unless_the_config_overrides_them():
    import types

    from aicmo_gateway import ProviderType, hookimpl

    class Preset:
        quotas = (Quota(limit=500, period="day"),)
        rate_limit = RateLimit(per_second=1, burst=5)

        def send(self, message): ...

    @hookimpl
    def aicmo_email_senders():
        return ProviderType(name="preset", factory=Preset)

    registry = Registry.from_plugins(
        {"p": types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)}
    )
    plain = Gateway.from_config(config(ptype="preset"), registry=registry, env={})
    (slot,) = plain.chains["email_sending"].slots
    assert slot.policy.quotas == (Quota(limit=500, period="day"),)
    assert slot.policy.rate_limit == RateLimit(per_second=1, burst=5)
    tuned = Gateway.from_config(
        config(ptype="preset", provider_extra={"daily_quota": 20}), registry=registry, env={}
    )
    assert tuned.chains["email_sending"].slots[0].policy.quotas == (Quota(limit=20, period="day"),)
