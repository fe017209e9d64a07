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
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from loguru import Logger

__all__ = ["logger", "silence", "when_loguru_imported"]

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


def silence(package: str) -> None:
    """``logger.disable(package)`` now if loguru is loaded, else as soon as it is imported."""
    when_loguru_imported(lambda logger: logger.disable(package))


class _Deferred:
    """loguru's logger, imported on first use."""

    def __getattr__(self, name: str) -> Any:
        from loguru import logger as loguru_logger

        return getattr(loguru_logger, name)

    def __repr__(self) -> str:
        return "<loguru's logger, imported on first use>"


logger: Logger = _Deferred()  # type: ignore[assignment]
