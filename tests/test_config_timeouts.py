"""A provider type's minimum attempt time: a capability set shorter loads with a warning that
names the value to set; the declaration is checked and optional."""

from __future__ import annotations

import types
from typing import Any

import pytest

from aicmo_gateway import ProviderType, hookimpl
from aicmo_gateway.config.load import load_config
from aicmo_gateway.plugins.registry import Registry


class Slow:
    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    async def enrich(self, lead: Any) -> Any:
        raise NotImplementedError


def _registry(declared: Any) -> Registry:
    @hookimpl
    def aicmo_lead_enrichers() -> list[ProviderType]:
        return [ProviderType(name="slow", factory=Slow, min_attempt_timeout=declared)]

    return Registry.from_plugins(
        {"slow": types.SimpleNamespace(aicmo_lead_enrichers=aicmo_lead_enrichers)}, strict=True
    )


def _warnings(declared: Any, **capability: Any) -> list[str]:
    config = load_config(
        {
            "capabilities": {"lead_enrichment": {"providers": ["p"], **capability}},
            "providers": {"p": {"type": "slow"}},
        },
        registry=_registry(declared),
    )
    return [w for w in config.warnings if "per attempt" in w]


def test_a_shorter_attempt_timeout_is_a_warning_naming_the_value_to_set():
    (warning,) = _warnings(90, deadline="5m")
    assert warning == (
        "<mapping>: capabilities.lead_enrichment: providers.p (type 'slow') needs at least "
        "90s per attempt, but attempt_timeout = 10s cuts it short, so its slow answers fail "
        'over; set attempt_timeout = "90s" (or more) under [capabilities.lead_enrichment]'
    )


def test_a_shorter_deadline_is_named_too():
    (warning,) = _warnings(45, attempt_timeout="1m")
    assert "deadline = 30s cuts it short" in warning and 'set deadline = "45s"' in warning


@pytest.mark.parametrize(
    "capability",
    [{"attempt_timeout": "2m", "deadline": "3m"}, {"attempt_timeout": "off", "deadline": "off"}],
)
def test_long_enough_or_switched_off_timeouts_load_quietly(capability):
    assert _warnings(90, **capability) == []


def test_a_type_without_a_minimum_or_with_a_failing_function_gets_no_warning():
    assert _warnings(None) == []
    assert _warnings(lambda settings: 1 / 0) == []
    assert _warnings(lambda settings: None) == []


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "90", True])
def test_a_declared_minimum_that_is_not_seconds_is_refused_by_the_record(bad):
    with pytest.raises(ValueError, match="min_attempt_timeout"):
        ProviderType(name="slow", factory=Slow, min_attempt_timeout=bad)
