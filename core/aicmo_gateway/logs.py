"""Logging like a library, without importing loguru before a message is logged.

loguru (with asyncio, logging and multiprocessing behind it) takes longer to import
than the rest of ``import aicmo_gateway`` and of a plugin's registration together,
so neither imports it up front:

* :func:`silence` is ``logger.disable(package)`` for a library that must be silent by
  default: at once if loguru is loaded, otherwise right after loguru's own import (a
  one-shot finder on ``sys.meta_path`` wraps loguru's loader), so an application that
  imports loguru later and calls ``logger.enable(package)`` gets what it asked for,
  whatever the order. The core calls ``silence("aicmo_gateway")``; each plugin's
  ``__init__`` calls it for its own package. :func:`when_loguru_imported` is the general
  form (the command line uses it to remove loguru's default handler).
* :data:`logger` stands for loguru's logger and imports loguru on its first use, for
  modules that log only on rare paths (warnings, tracing).
* :func:`activate` is for an application (the command line) that shows the library's
  lines: it enables the core and every plugin package silenced so far or later.

Every line about a call carries ``capability``, ``provider`` and ``call_id`` in its
``extra``: the engine keeps them in one context variable (:func:`enter_call`,
:func:`enter_provider`; a ``ContextVar.set``, far cheaper than ``logger.contextualize``
on every call) and :func:`add_call_context`, a loguru patcher, copies them into a record
only when a line is actually written. The core logs through ``logger.patch(
add_call_context)``; an application adds it for the plugins' lines too with
``logger.configure(patcher=add_call_context)`` (the command line does).
"""

from __future__ import annotations

import sys
from contextvars import ContextVar

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextvars import Token
    from typing import Any

    from loguru import Logger, Record

__all__ = [
    "CALL_CONTEXT",
    "activate",
    "add_call_context",
    "call_logger",
    "cancel",
    "deactivate",
    "enter_call",
    "enter_provider",
    "leave",
    "logger",
    "silence",
    "when_loguru_imported",
]

#: packages silenced so far (the core, then each plugin as it is imported)
_SILENCED: set[str] = set()
#: set by :func:`activate`: an application shows every package's lines, later ones too
_ACTIVE = False
#: loguru's logger patched with :func:`add_call_context`, built on first use
_CALL_LOGGER: list[Logger] = []
#: the call running in this context: (capability, provider, call_id); provider ``-``
#: until an attempt starts. :func:`enter_call`, :func:`enter_provider` and :func:`leave`
#: set and reset it; the engine's fast path sets it directly (one ``set`` with the
#: provider's name, no look-up of the call first) and resets it with the token
CALL_CONTEXT: ContextVar[tuple[str, str, str] | None] = ContextVar(
    "aicmo_gateway_call", default=None
)

#: what to do with loguru's logger once it is imported
_PENDING: list[Callable[[Logger], object]] = []


class _DisableAfterExec:
    """Runs loguru's loader, then every pending action; otherwise the loader itself."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        module.__loader__ = module.__spec__.loader = self._loader
        actions, _PENDING[:] = list(_PENDING), []
        for action in actions:
            action(module.logger)


class _LoguruFinder:
    """Finds nothing itself; when ``loguru`` is imported, wraps the loader that does.

    It serves that one import only and takes itself off ``sys.meta_path`` first.
    """

    @classmethod
    def find_spec(cls, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "loguru":
            return None
        while cls in sys.meta_path:
            sys.meta_path.remove(cls)
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if hasattr(spec.loader, "exec_module"):
                    spec.loader = _DisableAfterExec(spec.loader)
                return spec
        return None


def when_loguru_imported(action: Callable[[Logger], object]) -> None:
    """``action(logger)`` now if loguru is loaded, else right after loguru is imported."""
    loguru = sys.modules.get("loguru")
    if loguru is not None:
        action(loguru.logger)
        return
    _PENDING.append(action)
    if _LoguruFinder not in sys.meta_path:
        sys.meta_path.insert(0, _LoguruFinder)


def cancel(action: Callable[[Logger], object]) -> None:
    """Forget ``action`` if it still waits for loguru's import."""
    while action in _PENDING:
        _PENDING.remove(action)


def silence(package: str) -> None:
    """``logger.disable(package)`` now if loguru is loaded, else as soon as it is imported.

    Nothing once an application called :func:`activate`: it asked for every line.
    """
    _SILENCED.add(package)
    if not _ACTIVE:
        when_loguru_imported(lambda logger: logger.disable(package))


def activate() -> None:
    """``logger.enable`` the core and every plugin package, those silenced later too.

    For applications that show the library's lines (the command line); a library user
    who wants only some packages calls ``logger.enable(package)`` instead.
    """
    global _ACTIVE
    _ACTIVE = True
    when_loguru_imported(_enable_all)


def _enable_all(logger: Logger) -> None:
    for package in sorted(_SILENCED | {"aicmo_gateway"}):
        logger.enable(package)


def deactivate() -> None:
    """Undo :func:`activate`: every silenced package is silent again."""
    global _ACTIVE
    _ACTIVE = False
    if "loguru" not in sys.modules:  # nothing was enabled: loguru was never imported
        cancel(_enable_all)
        return

    def disable(logger: Logger) -> None:
        for package in sorted(_SILENCED | {"aicmo_gateway"}):
            logger.disable(package)

    when_loguru_imported(disable)


def enter_call(capability: str, call_id: str) -> Token[tuple[str, str, str] | None]:
    """Lines logged in this context from now on are about this call (no provider yet)."""
    return CALL_CONTEXT.set((capability, "-", call_id))


def enter_provider(provider: str) -> Token[tuple[str, str, str] | None] | None:
    """Lines logged in this context are about the current call's attempt on ``provider``."""
    call = CALL_CONTEXT.get()
    if call is None:
        return None
    return CALL_CONTEXT.set((call[0], provider, call[2]))


def leave(token: Token[tuple[str, str, str] | None] | None) -> None:
    """Undo :func:`enter_call` or :func:`enter_provider`."""
    if token is not None:
        CALL_CONTEXT.reset(token)


def add_call_context(record: Record) -> None:
    """A loguru patcher: the running call's capability, provider and call id into ``extra``.

    Values bound explicitly (``logger.bind(provider=...)``) win.
    """
    call = CALL_CONTEXT.get()
    if call is None:
        return
    extra = record["extra"]
    if "capability" not in extra:
        extra["capability"] = call[0]
    if "provider" not in extra:
        extra["provider"] = call[1]
    if "call_id" not in extra:
        extra["call_id"] = call[2]


class _Deferred:
    """loguru's logger, imported on first use."""

    def __getattr__(self, name: str) -> Any:
        from loguru import logger as loguru_logger

        return getattr(loguru_logger, name)

    def __repr__(self) -> str:
        return "<loguru's logger, imported on first use>"


logger: Logger = _Deferred()  # type: ignore[assignment]


def call_logger() -> Logger:
    """loguru's logger, each line carrying the running call's fields (imports loguru)."""
    if not _CALL_LOGGER:
        from loguru import logger as loguru_logger

        _CALL_LOGGER.append(loguru_logger.patch(add_call_context))
    return _CALL_LOGGER[0]
