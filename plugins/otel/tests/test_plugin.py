"""The plugin as discovery finds it: an entry point whose module implements the call observer."""

from __future__ import annotations

from aicmo_gateway import Registry


def test_discovery_loads_the_plugin_from_its_entry_point_with_the_call_observer():
    registry = Registry.discover(env={"AICMO_GATEWAY_LOAD_PLUGINS": "aicmo-gateway-otel"})
    (info,) = [p for p in registry.active if p.distribution == "aicmo-gateway-otel"]
    assert info.module == "aicmo_gateway_otel.plugin"
    assert info.warnings == ()
    assert not registry.observes("aicmo_attempt_finished")  # the call record has every attempt
    assert registry.observes("aicmo_call_finished")


def test_disabling_the_distribution_leaves_no_observer():
    registry = Registry.discover(
        env={
            "AICMO_GATEWAY_LOAD_PLUGINS": "aicmo-gateway-otel",
            "AICMO_GATEWAY_DISABLE_PLUGINS": "aicmo-gateway-otel",
        }
    )
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-otel"]
    assert info.status == "disabled"
    assert not registry.observes("aicmo_call_finished")
