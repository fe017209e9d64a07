"""Registering :class:`~aicmo_gateway.testing.fakes.FakeProvider` objects as a provider type.

A test builds its fakes, then a registry and a config that name them::

    primary, backup = FakeProvider(fast_failure(), name="primary"), FakeProvider(name="backup")
    gateway = Gateway.from_config(
        fake_config("email_sending", "primary", "backup", attempt_timeout="5s"),
        registry=fake_registry(primary=primary, backup=backup),
        env={},
    )

The provider type (``fake``) is offered for all seven ports; its one setting, ``name``,
picks the pre-built fake. To combine fakes with other test plugins, pass
:func:`fake_plugin` to ``Registry.from_plugins`` yourself.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from aicmo_gateway.plugins.hookspecs import hookimpl
from aicmo_gateway.plugins.provider_type import Idempotency, ProviderType
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import PORTS
from aicmo_gateway.testing.fakes import FakeProvider

__all__ = [
    "FAKE_TYPE",
    "FakeSettings",
    "fake_config",
    "fake_plugin",
    "fake_provider_type",
    "fake_registry",
]

#: the provider type name the helpers register by default
FAKE_TYPE = "fake"


@attrs.frozen
class FakeSettings:
    """The settings of the ``fake`` provider type: which pre-built fake to use."""

    name: str


def fake_provider_type(
    fakes: Mapping[str, FakeProvider],
    *,
    type_name: str = FAKE_TYPE,
    idempotency: Idempotency | str | None = None,
) -> ProviderType:
    """A provider type whose factory, given ``name=...``, returns ``fakes[name]``.

    ``fakes`` is looked up when the gateway is built, so it may be filled in later.
    ``idempotency`` defaults to ``key_header`` when every fake honours idempotency keys,
    else ``none``; pass it to declare something else (e.g. a provider that lies).
    """

    def factory(*, name: str) -> FakeProvider:
        try:
            return fakes[name]
        except KeyError:
            known = ", ".join(sorted(fakes)) or "none"
            raise ValueError(f"no fake named {name!r}; the fakes are: {known}") from None

    if idempotency is None:
        honoured = bool(fakes) and all(f.honours_idempotency for f in fakes.values())
        idempotency = Idempotency.KEY_HEADER if honoured else Idempotency.NONE
    return ProviderType(
        name=type_name,
        factory=factory,
        summary="a scriptable fault-injecting fake (aicmo_gateway.testing.fakes)",
        settings=FakeSettings,
        idempotency=idempotency,
    )


def fake_plugin(
    fakes: Mapping[str, FakeProvider] | None = None,
    /,
    *,
    type_name: str = FAKE_TYPE,
    idempotency: Idempotency | str | None = None,
    **named: FakeProvider,
) -> types.SimpleNamespace:
    """A plugin object offering the fake provider type for all seven ports.

    Pass it to ``Registry.from_plugins({"fakes": fake_plugin(primary=..., backup=...)})``.
    """
    # without named fakes, keep the caller's mapping: it may be filled in later
    table = {**(fakes or {}), **named} if named or fakes is None else fakes
    provider_type = fake_provider_type(table, type_name=type_name, idempotency=idempotency)

    hooks = {spec.hook: hookimpl(_offer(provider_type, spec.hook)) for spec in PORTS.values()}
    return types.SimpleNamespace(**hooks)


def _offer(provider_type: ProviderType, hook_name: str) -> Callable[[], list[ProviderType]]:
    def hook() -> list[ProviderType]:
        return [provider_type]

    hook.__name__ = hook.__qualname__ = hook_name
    return hook


def fake_registry(
    fakes: Mapping[str, FakeProvider] | None = None,
    /,
    *,
    type_name: str = FAKE_TYPE,
    idempotency: Idempotency | str | None = None,
    **named: FakeProvider,
) -> Registry:
    """A registry with the built-in providers and :func:`fake_plugin` (as plugin ``fakes``)."""
    plugin = fake_plugin(fakes, type_name=type_name, idempotency=idempotency, **named)
    return Registry.from_plugins({"fakes": plugin})


def fake_config(
    capability: str, *names: str, type_name: str = FAKE_TYPE, **capability_settings: Any
) -> dict[str, Any]:
    """A config mapping: ``capability`` served by the fakes ``names``, in that order.

    Extra keyword arguments go to the capability's table (``attempt_timeout="1s"``, ...).
    """
    if capability not in PORTS:
        raise ValueError(
            f"fake_config: unknown capability {capability!r}; use one of {list(PORTS)}"
        )
    return {
        "capabilities": {capability: {"providers": list(names), **capability_settings}},
        "providers": {name: {"type": type_name, "name": name} for name in names},
    }
