"""A provider type's settings class, given or named lazily, and what discovery imports."""

from __future__ import annotations

import attrs
import pytest

from aicmo_gateway import PluginError, ProviderType
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.secret import Secret


def build(**settings: object) -> object:
    return settings


@attrs.frozen
class AcmeSettings:
    api_key: str


def test_a_settings_class_named_as_module_and_class_is_imported_when_asked_for() -> None:
    pt = ProviderType("acme", build, settings="aicmo_gateway.secret:Secret")
    assert pt.settings is Secret


def test_a_settings_function_is_called_when_asked_for() -> None:
    calls: list[int] = []

    def settings() -> type:
        calls.append(1)
        return AcmeSettings

    pt = ProviderType("acme", build, settings=settings)
    assert calls == []
    assert pt.settings is AcmeSettings


def test_the_class_itself_and_the_attrs_factory_still_work() -> None:
    assert ProviderType("acme", build, settings=AcmeSettings).settings is AcmeSettings
    assert ProviderType("acme", AcmeSettings).settings is AcmeSettings
    assert ProviderType("acme", build).settings is None


def test_a_lazy_reference_survives_discovery_filling_in_the_port() -> None:
    pt = attrs.evolve(
        ProviderType("acme", build, settings="aicmo_gateway.secret:Secret"), port="crm_sync"
    )
    assert (pt.port, pt.settings) == ("crm_sync", Secret)


def test_a_reference_that_cannot_be_imported_names_the_type_when_used() -> None:
    pt = ProviderType("acme", build, settings="aicmo_gateway_nowhere.settings:Settings")
    with pytest.raises(PluginError, match=r"provider type 'acme'.*aicmo_gateway_nowhere"):
        pt.settings  # noqa: B018


def test_a_reference_to_something_that_is_not_a_class_is_refused_when_used() -> None:
    pt = ProviderType("acme", build, settings="aicmo_gateway.secret:__all__")
    with pytest.raises(PluginError, match="not a class"):
        pt.settings  # noqa: B018


@pytest.mark.parametrize("bad", ["acme.settings", "acme:", ":Settings", "acme settings:X"])
def test_a_malformed_reference_is_refused_at_once(bad: str) -> None:
    with pytest.raises(ValueError, match=r"package\.module:ClassName"):
        ProviderType("acme", build, settings=bad)


def test_settings_that_are_neither_class_reference_nor_function_are_refused() -> None:
    with pytest.raises(TypeError, match=r"ProviderType\.settings"):
        ProviderType("acme", build, settings=42)  # type: ignore[arg-type]


def test_discovery_does_not_import_a_lazily_named_settings_module(site, make_dist) -> None:
    (site / "acme_lazy_settings.py").write_text(
        "import attrs\n\n@attrs.frozen\nclass Settings:\n    api_key: str\n", encoding="utf-8"
    )
    make_dist(
        "aicmo-gateway-acme",
        """
from aicmo_gateway import ProviderType, hookimpl

def build(**settings):
    raise NotImplementedError

@hookimpl
def aicmo_crm_syncers():
    return [ProviderType("acme", build, settings="acme_lazy_settings:Settings")]
""",
    )
    import sys

    registry = Registry.discover(path=[str(site)], env={})
    assert "acme_lazy_settings" not in sys.modules
    settings = registry.get("crm_sync", "acme").settings
    assert settings is not None and settings.__name__ == "Settings"
    assert "acme_lazy_settings" in sys.modules
    del sys.modules["acme_lazy_settings"]
