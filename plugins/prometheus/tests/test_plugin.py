"""The plugin as discovery finds it: an entry point whose module implements the observer hooks."""

from __future__ import annotations

from aicmo_gateway import Registry


def test_discovery_loads_the_plugin_from_its_entry_point_with_both_observer_hooks():
    registry = Registry.discover(env={"AICMO_GATEWAY_LOAD_PLUGINS": "aicmo-gateway-prometheus"})
    (info,) = [p for p in registry.active if p.distribution == "aicmo-gateway-prometheus"]
    assert info.module == "aicmo_gateway_prometheus.plugin"
    assert info.warnings == ()
    assert registry.observes("aicmo_attempt_finished")
    assert registry.observes("aicmo_call_finished")


def test_disabling_the_distribution_leaves_no_observer():
    registry = Registry.discover(
        env={
            "AICMO_GATEWAY_LOAD_PLUGINS": "aicmo-gateway-prometheus",
            "AICMO_GATEWAY_DISABLE_PLUGINS": "aicmo-gateway-prometheus",
        }
    )
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-prometheus"]
    assert info.status == "disabled"
    assert not registry.observes("aicmo_call_finished")
