"""Settings typed as arrays and tables: accepted from TOML, and named as such when wrong."""

from __future__ import annotations

import collections.abc
import types

import attrs
import pytest

from aicmo_gateway import ConfigError, Gateway, ProviderType, hookimpl
from aicmo_gateway.plugins import Registry


@attrs.frozen
class Listy:
    hosts: collections.abc.Sequence[str]
    tags: tuple[str, ...] = ()
    labels: dict[str, str] = attrs.field(factory=dict)

    def verify(self, address: str) -> None:
        raise NotImplementedError  # never called: only the settings matter here


@hookimpl
def aicmo_email_verifiers() -> ProviderType:
    return ProviderType("listy", Listy)


@pytest.fixture
def registry() -> Registry:
    plugin = types.SimpleNamespace(aicmo_email_verifiers=aicmo_email_verifiers)
    return Registry.from_plugins({"listy": plugin}, strict=True)


def config(**settings: object) -> dict[str, object]:
    return {
        "capabilities": {"email_verification": {"providers": ["v"]}},
        "providers": {"v": {"type": "listy", **settings}},
    }


def test_an_array_is_accepted_for_a_sequence_typed_setting(registry):
    gateway = Gateway.from_config(config(hosts=["a", "b"]), registry=registry, env={})
    assert list(gateway.chains["email_verification"].slots[0].provider.hosts) == ["a", "b"]


@pytest.mark.parametrize(
    ("settings", "key", "fix"),
    [
        ({"hosts": "a"}, "hosts", "write hosts as an array (e.g. [...])"),
        ({"hosts": ["a"], "tags": "x"}, "tags", "write tags as an array (e.g. [...])"),
        ({"hosts": ["a"], "labels": ["x"]}, "labels", "write labels as a table"),
    ],
)
def test_array_and_table_settings_of_the_wrong_shape_name_the_toml_shape(
    registry, settings, key, fix
):
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(config(**settings), registry=registry, env={})
    assert f"providers.v.{key}" in str(info.value)
    assert fix in str(info.value)
