"""Silence a library's loguru messages without importing loguru before it is needed.

loguru (with asyncio, logging and multiprocessing behind it) costs more than the
rest of ``import aicmo_gateway``, so the package does not import it. A library
must still be silent by default (``logger.disable(name)``) from the moment loguru
exists, so that an application that imports loguru later and calls
``logger.enable(name)`` gets what it asked for, whatever the order. So: if loguru
is loaded, disable now; otherwise disable right after loguru's own import, via a
one-shot finder on ``sys.meta_path`` that wraps loguru's loader.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from typing import Any

__all__ = ["silence_loguru"]

_PENDING: list[str] = []


class _DisableAfterExec:
    """Runs loguru's loader, then disables every pending name; otherwise the loader itself."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        module.__loader__ = module.__spec__.loader = self._loader
        for name in _PENDING:
            module.logger.disable(name)
        _PENDING.clear()


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


def silence_loguru(name: str) -> None:
    """``logger.disable(name)`` now if loguru is loaded, else as soon as it is imported."""
    loguru = sys.modules.get("loguru")
    if loguru is not None:
        loguru.logger.disable(name)
        return
    if name not in _PENDING:
        _PENDING.append(name)
    if _LoguruFinder not in sys.meta_path:
        sys.meta_path.insert(0, _LoguruFinder)
