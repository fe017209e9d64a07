"""Plugin discovery from installed distributions, quarantine reasons and switches."""

from __future__ import annotations

import pytest

from aicmo_gateway import PluginError, UnknownProviderType
from aicmo_gateway.plugins.registry import PluginStatus, Registry

GOOD = """
from aicmo_gateway import ProviderType, hookimpl

class Sender:
    def send(self, message):
        raise NotImplementedError

@hookimpl
def aicmo_email_senders():
    return [ProviderType(name="{name}", factory=Sender, summary="test sender")]
"""


def _discover(site, **env):
    return Registry.discover(path=[str(site)], env=env)


def _plugin(registry, name):
    matches = [p for p in registry.plugins if p.name == name]
    assert matches, f"{name} not found in {[p.name for p in registry.plugins]}"
    return matches[0]


def test_a_plugin_on_the_path_is_discovered_with_its_distribution_and_version(site, make_dist):
    make_dist("aicmo-gateway-good", GOOD.format(name="good"), version="2.5", entry_name="good")
    registry = _discover(site)
    info = _plugin(registry, "good")
    assert info.status is PluginStatus.ACTIVE
    assert (info.distribution, info.version) == ("aicmo-gateway-good", "2.5")
    provider_type = registry.get("email_sending", "good")
    assert provider_type.port == "email_sending"
    assert provider_type.distribution == "aicmo-gateway-good"
    assert provider_type.version == "2.5"
    assert provider_type.plugin == "good"


def test_the_core_builtins_are_registered_through_the_core_entry_point(site):
    registry = _discover(site)
    builtin = [p for p in registry.plugins if p.builtin]
    assert [p.distribution for p in builtin] == ["aicmo-gateway"]
    assert builtin[0].status is PluginStatus.ACTIVE
    ports = {pt.port for pt in builtin[0].provider_types}
    assert len(ports) == 7


def test_a_plugin_that_fails_to_import_is_quarantined_and_others_keep_working(site, make_dist):
    make_dist("broken-import", "import no_such_module_here\n", version="0.9")
    make_dist("aicmo-gateway-good", GOOD.format(name="good"), entry_name="good")
    registry = _discover(site)
    broken = _plugin(registry, "broken-import")
    assert broken.status is PluginStatus.QUARANTINED
    assert "ModuleNotFoundError" in broken.reason
    assert "no_such_module_here" in broken.reason
    assert broken.version == "0.9"
    assert _plugin(registry, "good").status is PluginStatus.ACTIVE
    assert registry.get("email_sending", "good")


def test_a_plugin_whose_hook_raises_is_quarantined_with_the_hook_and_error(site, make_dist):
    make_dist(
        "raiser",
        """
from aicmo_gateway import hookimpl

@hookimpl
def aicmo_crm_syncers():
    raise RuntimeError("boom in hook")
""",
    )
    info = _plugin(_discover(site), "raiser")
    assert info.status is PluginStatus.QUARANTINED
    assert "aicmo_crm_syncers raised RuntimeError: boom in hook" in info.reason


@pytest.mark.parametrize("returned", ['"smtp"', '[{"name": "x"}]', "[42]", "123"])
def test_a_hook_returning_something_else_than_provider_types_is_quarantined(
    site, make_dist, returned
):
    make_dist(
        "wrong-return",
        f"""
from aicmo_gateway import hookimpl

@hookimpl
def aicmo_email_verifiers():
    return {returned}
""",
    )
    info = _plugin(_discover(site), "wrong-return")
    assert info.status is PluginStatus.QUARANTINED
    assert "not" in info.reason and "ProviderType" in info.reason


def test_a_single_record_or_a_generator_is_accepted_from_a_hook(site, make_dist):
    make_dist(
        "shapes",
        """
from aicmo_gateway import ProviderType, hookimpl

class P:
    def verify(self, address): ...
    def post(self, post): ...

@hookimpl
def aicmo_email_verifiers():
    return ProviderType(name="single", factory=P)

@hookimpl
def aicmo_social_posters():
    yield ProviderType(name="generated", factory=P)
""",
    )
    registry = _discover(site)
    assert registry.get("email_verification", "single").name == "single"
    assert registry.get("social_posting", "generated").name == "generated"


def test_a_duplicate_port_and_name_quarantines_the_later_plugin_naming_the_owner(site, make_dist):
    make_dist("aicmo-gateway-alpha", GOOD.format(name="dup"), version="1.1", entry_name="alpha")
    make_dist("aicmo-gateway-beta", GOOD.format(name="dup"), version="2.2", entry_name="beta")
    registry = _discover(site)
    assert _plugin(registry, "alpha").status is PluginStatus.ACTIVE
    beta = _plugin(registry, "beta")
    assert beta.status is PluginStatus.QUARANTINED
    assert "aicmo-gateway-alpha 1.1 already provides" in beta.reason
    assert "'dup'" in beta.reason
    assert registry.get("email_sending", "dup").distribution == "aicmo-gateway-alpha"


def test_a_plugin_reusing_a_builtin_name_is_quarantined(site, make_dist):
    make_dist("shadow", GOOD.format(name="noop"))
    info = _plugin(_discover(site), "shadow")
    assert info.status is PluginStatus.QUARANTINED
    assert "aicmo-gateway" in info.reason and "'noop'" in info.reason


def test_a_plugin_requiring_an_incompatible_core_is_quarantined(site, make_dist):
    make_dist("future", GOOD.format(name="future"), requires=("aicmo-gateway>=99",))
    make_dist("present", GOOD.format(name="present"), requires=("aicmo-gateway>=0.1,<99",))
    registry = _discover(site)
    future = _plugin(registry, "future")
    assert future.status is PluginStatus.QUARANTINED
    assert "requires aicmo-gateway>=99" in future.reason
    assert _plugin(registry, "present").status is PluginStatus.ACTIVE


def test_hook_arguments_outside_the_spec_quarantine_the_plugin(site, make_dist):
    make_dist(
        "badargs",
        """
from aicmo_gateway import hookimpl

@hookimpl
def aicmo_call_finished(call, extra_argument):
    pass
""",
    )
    info = _plugin(_discover(site), "badargs")
    assert info.status is PluginStatus.QUARANTINED
    assert "extra_argument" in info.reason


def test_a_misspelt_hook_name_is_reported_with_a_suggestion(site, make_dist):
    make_dist(
        "typo",
        """
from aicmo_gateway import hookimpl

@hookimpl
def aicmo_email_sender():
    return []
""",
    )
    info = _plugin(_discover(site), "typo")
    assert info.status is PluginStatus.ACTIVE
    assert any("did you mean 'aicmo_email_senders'" in w for w in info.warnings)


def test_a_hook_function_without_the_decorator_is_reported(site, make_dist):
    make_dist(
        "undecorated",
        """
def aicmo_email_senders():
    return []
""",
    )
    info = _plugin(_discover(site), "undecorated")
    assert any("without @hookimpl" in w for w in info.warnings)


def test_load_plugins_unset_loads_every_plugin(site, make_dist):
    make_dist("one", GOOD.format(name="one"))
    make_dist("two", GOOD.format(name="two"))
    registry = _discover(site)
    assert {p.name for p in registry.active} >= {"one", "two", "builtin"}


def test_an_empty_load_plugins_loads_only_the_core(site, make_dist):
    make_dist("one", GOOD.format(name="one"))
    registry = _discover(site, AICMO_GATEWAY_LOAD_PLUGINS="")
    assert [p.name for p in registry.active] == ["builtin"]
    one = _plugin(registry, "one")
    assert one.status is PluginStatus.DISABLED
    assert "AICMO_GATEWAY_LOAD_PLUGINS" in one.reason


def test_load_plugins_list_loads_only_the_named_distributions(site, make_dist):
    make_dist("aicmo-gateway-one", GOOD.format(name="one"), entry_name="one")
    make_dist("aicmo-gateway-two", GOOD.format(name="two"), entry_name="two")
    registry = _discover(site, AICMO_GATEWAY_LOAD_PLUGINS="aicmo_gateway_one")
    assert _plugin(registry, "one").status is PluginStatus.ACTIVE
    assert _plugin(registry, "two").status is PluginStatus.DISABLED


def test_disable_plugins_disables_by_distribution_or_entry_point_name(site, make_dist):
    make_dist("aicmo-gateway-one", GOOD.format(name="one"), entry_name="one")
    make_dist("aicmo-gateway-two", GOOD.format(name="two"), entry_name="two")
    registry = _discover(site, AICMO_GATEWAY_DISABLE_PLUGINS="aicmo-gateway-one, two")
    assert _plugin(registry, "one").status is PluginStatus.DISABLED
    assert _plugin(registry, "two").status is PluginStatus.DISABLED
    with pytest.raises(UnknownProviderType):
        registry.get("email_sending", "one")


def test_a_switch_naming_no_installed_plugin_is_reported(site):
    registry = _discover(site, AICMO_GATEWAY_DISABLE_PLUGINS="aicmo-gateway-nothere")
    assert any(
        "aicmo-gateway-nothere" in p and "matches no installed plugin" in p
        for p in registry.problems
    )


def test_strict_mode_raises_instead_of_quarantining(site, make_dist):
    make_dist("broken-import", "import no_such_module_here\n", version="0.9")
    with pytest.raises(PluginError, match=r"broken-import 0\.9.*ModuleNotFoundError") as info:
        _discover(site, AICMO_GATEWAY_STRICT_PLUGINS="1")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_strict_mode_raises_on_a_misspelt_hook(site, make_dist):
    make_dist(
        "typo",
        "from aicmo_gateway import hookimpl\n@hookimpl\ndef aicmo_lead_enricher():\n"
        "    return []\n",
    )
    with pytest.raises(PluginError, match="aicmo_lead_enrichers"):
        _discover(site, AICMO_GATEWAY_STRICT_PLUGINS="1")


def test_trace_switch_logs_each_port_hook_call(site, make_dist, log_lines):
    make_dist("traced", GOOD.format(name="traced"))
    _discover(site, AICMO_GATEWAY_TRACE_PLUGINS="1")
    assert any("aicmo_email_senders" in line and "traced" in line for line in log_lines)


def test_observer_hooks_are_traced_when_called_through_pluggy(site, make_dist, log_lines):
    make_dist(
        "observer",
        "from aicmo_gateway import hookimpl\n@hookimpl\ndef aicmo_call_finished(call):\n    pass\n",
    )
    registry = _discover(site, AICMO_GATEWAY_TRACE_PLUGINS="1")
    registry.pm.hook.aicmo_call_finished(call=None)
    assert any("hook aicmo_call_finished" in line for line in log_lines)


def test_an_unknown_type_lists_installed_types_and_how_to_install_it_from_the_repository(site):
    registry = _discover(site, AICMO_GATEWAY_LOAD_PLUGINS="")
    with pytest.raises(UnknownProviderType) as info:
        registry.get("email_sending", "smtp")
    message = str(info.value)
    assert "installed email_sending types:" in message and "maildir" in message
    assert "with: pip install ./plugins/smtp" in message
    assert "from a checkout of the aicmo-gateway repository (it is not on PyPI yet)" in message


def test_an_unknown_type_that_exists_for_another_port_says_so(site):
    registry = _discover(site)
    with pytest.raises(UnknownProviderType, match="'sqlite' is a crm_sync type"):
        registry.get("email_sending", "sqlite")


def test_an_observer_that_raises_is_logged_and_ignored(site, make_dist, log_lines):
    make_dist(
        "bad-observer",
        "from aicmo_gateway import hookimpl\n@hookimpl\n"
        "def aicmo_call_finished(call):\n    raise ValueError('observer broke')\n",
    )
    make_dist(
        "good-observer",
        "from aicmo_gateway import hookimpl\nSEEN = []\n@hookimpl\n"
        "def aicmo_call_finished(call):\n    SEEN.append(call)\n",
    )
    registry = _discover(site)
    registry.notify("aicmo_call_finished", call="the-call")
    good = _plugin(registry, "good-observer")
    import sys

    assert sys.modules[good.module].SEEN == ["the-call"]
    assert any("raised; ignored" in line for line in log_lines)


def test_provider_type_order_does_not_depend_on_registration_order(site, make_dist):
    make_dist("zzz", GOOD.format(name="aaa-from-zzz"))
    make_dist("aaa", GOOD.format(name="zzz-from-aaa"))
    names = [
        pt.name
        for pt in _discover(site).provider_types("email_sending")
        if pt.distribution in ("zzz", "aaa")
    ]
    assert names == ["aaa-from-zzz", "zzz-from-aaa"]
