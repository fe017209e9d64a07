"""A provider's settings and policy are checked once, when the file is loaded; the build
uses what was checked (and adds the instance's own limits where the file sets none)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import attrs
import pytest

import aicmo_gateway.config.build as build
import aicmo_gateway.config.tables as tables
from aicmo_gateway import ConfigError, ProviderType, Quota, RateLimit, hookimpl
from aicmo_gateway.config.build import build_chains
from aicmo_gateway.config.load import load_config
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.state.audit import AuditTrail


@attrs.frozen
class AcmeSender:
    host: str
    outbox: Path = Path("outbox")
    port: int = 25

    def send(self, message):  # pragma: no cover - never called
        raise AssertionError


@hookimpl
def aicmo_email_senders():
    return [
        ProviderType(
            "acme",
            AcmeSender,
            rate_limit=RateLimit(per_second=5),
            quotas=[Quota(limit=100, period="day"), Quota(limit=10, period="hour")],
        )
    ]


@pytest.fixture
def registry():
    return Registry.from_plugins({"acme": SimpleNamespace(aicmo_email_senders=aicmo_email_senders)})


def config(**provider):
    return {
        "capabilities": {"email_sending": {"providers": ["mail"]}},
        "providers": {"mail": {"type": "acme", "host": "smtp.example.com", **provider}},
    }


@pytest.fixture
def counted(monkeypatch):
    """Calls of the settings check and the policy parser, wherever the config layer makes them."""
    calls = {"settings": 0, "policy": 0}

    def counting(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for module in (tables, build):
        if hasattr(module, "check_settings"):
            monkeypatch.setattr(
                module, "check_settings", counting("settings", module.check_settings)
            )
        if hasattr(module, "parse_provider_policy"):
            monkeypatch.setattr(
                module, "parse_provider_policy", counting("policy", module.parse_provider_policy)
            )
    return calls


def test_settings_and_policy_are_checked_once_from_file_to_chains(registry, counted, tmp_path):
    source = tmp_path / "aicmo-gateway.toml"
    source.write_text(
        '[capabilities.email_sending]\nproviders = ["mail"]\n'
        '[providers.mail]\ntype = "acme"\nhost = "smtp.example.com"\noutbox = "out"\n'
        "daily_quota = 50\n",
        encoding="utf-8",
    )
    loaded = load_config(source, env={}, registry=registry)
    chains = build_chains(loaded, registry, AuditTrail())
    assert counted == {"settings": 1, "policy": 1}
    slot = chains["email_sending"].slots[0]
    assert slot.provider.outbox == tmp_path / "out"  # relative to the file, as checked at load
    # the file's daily quota replaces the type's; the type's hourly quota and rate stay
    assert {q.period: q.limit for q in slot.policy.quotas} == {"day": 50, "hour": 10}
    assert slot.policy.rate_limit == RateLimit(per_second=5)


def test_a_rate_limit_in_the_file_replaces_the_types(registry):
    loaded = load_config(config(rate_limit="2/s"), env={}, registry=registry)
    slot = build_chains(loaded, registry, AuditTrail())["email_sending"].slots[0]
    assert slot.policy.rate_limit == RateLimit(per_second=2.0, burst=2)
    assert {q.period for q in slot.policy.quotas} == {"day", "hour"}


def test_a_config_loaded_without_a_registry_is_checked_when_built(registry, counted):
    loaded = load_config(config(port="25"), env={})  # no registry: settings not checked yet
    assert counted["settings"] == 0
    with pytest.raises(ConfigError, match="port"):
        build_chains(loaded, registry, AuditTrail())
    assert counted == {"settings": 1, "policy": 1}


def test_settings_problems_are_config_problems_of_the_file_and_table(registry):
    with pytest.raises(ConfigError) as info:
        load_config(config(prot=25), env={}, registry=registry)
    (problem,) = info.value.problems
    assert (problem.source, problem.key) == ("<mapping>", "providers.mail.prot")
    assert problem.message == "is not a setting of this provider type (type 'acme')"
    assert problem.fix.startswith("did you mean 'port'?")
