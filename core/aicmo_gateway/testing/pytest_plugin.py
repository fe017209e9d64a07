"""Fixtures for the tests of a plugin (or of an application using the gateway).

Opt-in, never autoloaded (the core declares no ``pytest11`` entry point): enable it with
``pytest -p aicmo_gateway.testing.pytest_plugin``, with ``addopts`` in the pytest
configuration, or with ``pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]`` in the
top-level ``conftest.py``.

``aicmo_registry``
    a registry of the built-in providers and the plugins registered with
    ``register_plugin``; installed plugins are *not* discovered, so the test sees only
    what it registered (strict: a broken plugin fails the test).
``register_plugin``
    ``register_plugin(module_or_object, name=None)``: a plugin for this test only.
``make_gateway``
    ``make_gateway(config_mapping, env=None)``: a :class:`Gateway` from a mapping shaped
    like ``aicmo-gateway.toml``, on ``aicmo_registry``; ``env`` defaults to ``{}`` so the
    test never reads the real environment. Close it (``async with``/``aclose()``).
``virtual_loop``
    a :class:`~aicmo_gateway.testing.VirtualEventLoop` for a synchronous test:
    ``virtual_loop.run_until_complete(main())``; ``virtual_loop.clock`` is its clock.
``log_lines``
    every loguru line (``"LEVEL message"``) of the core and of every imported
    ``aicmo_gateway_*`` package during the test.
``threaded_httpserver``
    a threaded pytest-httpserver for the session (a held answer does not block the next
    request); cleared after each test that uses it. Needs ``pytest-httpserver``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import pytest
from loguru import logger

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.plugins.registry import Registry
    from aicmo_gateway.testing.virtual_time import VirtualEventLoop

__all__ = [
    "PluginKit",
    "aicmo_registry",
    "log_lines",
    "make_gateway",
    "register_plugin",
    "threaded_httpserver",
    "virtual_loop",
]


class PluginKit:
    """The plugins registered for one test, and the registry they make."""

    def __init__(self) -> None:
        self.plugins: dict[str, Any] = {}
        self._registry: Registry | None = None

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a module or an object with hook implementations, for this test."""
        key = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if key in self.plugins:
            raise ValueError(f"a plugin named {key!r} is already registered in this test")
        self.plugins[key] = plugin
        self._registry = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from aicmo_gateway.plugins.registry import Registry

            self._registry = Registry.from_plugins(self.plugins, strict=True)
        return self._registry

    def gateway(self, config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Gateway:
        from aicmo_gateway.gateway import Gateway

        return Gateway.from_config(config, registry=self.registry, env={} if env is None else env)


@pytest.fixture
def _aicmo_plugin_kit() -> PluginKit:
    return PluginKit()


@pytest.fixture
def register_plugin(_aicmo_plugin_kit: PluginKit) -> Callable[..., None]:
    """``register_plugin(module_or_object, name=None)``: a plugin for this test only."""
    return _aicmo_plugin_kit.register


class _CurrentRegistry:
    """Stands for the kit's registry as it is when used: plugins registered later count."""

    def __init__(self, kit: PluginKit) -> None:
        self._kit = kit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kit.registry, name)

    def __repr__(self) -> str:
        return f"<registry of this test: {sorted(self._kit.plugins)}>"


@pytest.fixture
def aicmo_registry(_aicmo_plugin_kit: PluginKit) -> Registry:
    """The built-in providers and this test's registered plugins; nothing is discovered.

    Plugins registered after the fixture was set up are included: it reads the registry
    when used.
    """
    return cast("Registry", _CurrentRegistry(_aicmo_plugin_kit))


@pytest.fixture
def make_gateway(_aicmo_plugin_kit: PluginKit) -> Callable[..., Gateway]:
    """``make_gateway(config_mapping, env=None)``: a gateway on this test's registry."""
    return _aicmo_plugin_kit.gateway


@pytest.fixture
def virtual_loop() -> Iterator[VirtualEventLoop]:
    """An event loop on a virtual clock, for a synchronous test to drive."""
    from aicmo_gateway.testing.virtual_time import virtual_loop as make

    with make() as loop:
        yield loop


def _packages() -> list[str]:
    names = {"aicmo_gateway"}
    names.update(n for n in sys.modules if n.startswith("aicmo_gateway_") and "." not in n)
    return sorted(names)


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every loguru line (``"LEVEL message"``) of the core and the plugins during the test."""
    lines: list[str] = []
    names = _packages()
    for name in names:
        logger.enable(name)
    handler = logger.add(
        lambda m: lines.append(str(m).rstrip()), level="DEBUG", format="{level} {message}"
    )
    yield lines
    logger.remove(handler)
    for name in names:
        logger.disable(name)


@pytest.fixture(scope="session")
def _aicmo_threaded_httpserver() -> Iterator[HTTPServer]:
    pytest.importorskip("pytest_httpserver", reason="threaded_httpserver needs pytest-httpserver")
    from aicmo_gateway.testing.httpfake import threaded_server

    with threaded_server() as server:
        yield server


@pytest.fixture
def threaded_httpserver(_aicmo_threaded_httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """A threaded local HTTP server (shared by the session), cleared after the test."""
    yield _aicmo_threaded_httpserver
    _aicmo_threaded_httpserver.clear()
