"""Lazy public names for a package (PEP 562), so that importing it costs next to nothing.

``__getattr__, __dir__ = attach(__name__, {"aicmo_gateway.errors": ("ConfigError", ...)})``
in a package's ``__init__`` makes ``package.ConfigError`` (and ``from package import
ConfigError``) import ``aicmo_gateway.errors`` on first use; the value is then stored on the
package, so later look-ups are plain attribute reads. Type checkers see the names through
``if TYPE_CHECKING:`` imports next to the call. The same idea as scientific-python's
``lazy_loader.attach``, in the few lines this needs.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

__all__ = ["attach"]


def attach(
    package: str, homes: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``; ``homes`` maps a module to its names."""
    home = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # the next look-up skips this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(home))

    return __getattr__, __dir__
