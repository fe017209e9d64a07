"""Lazy module attributes (PEP 562), so that importing a package costs next to nothing.

:func:`attach` makes a package's public names lazy; :func:`version_getattr` gives a plugin
package a ``__version__`` read from its installed metadata when first asked for.


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

__all__ = ["attach", "version_getattr"]


def attach(
    package: str, homes: Mapping[str, Iterable[str]], *, distribution: str | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``; ``homes`` maps a module to its names.

    With ``distribution``, ``package.__version__`` is that distribution's version too (see
    :func:`version_getattr`).
    """
    home = {name: module for module, names in homes.items() for name in names}
    version = None if distribution is None else version_getattr(package, distribution)

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            if version is not None and name == "__version__":
                return version(name)
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # the next look-up skips this function
        return value

    def __dir__() -> list[str]:
        extra = {"__version__"} if version is not None else set()
        return sorted(set(vars(sys.modules[package])) | set(home) | extra)

    return __getattr__, __dir__


def version_getattr(package: str, distribution: str) -> Callable[[str], Any]:
    """A ``__getattr__`` for ``package`` whose ``__version__`` is ``distribution``'s version.

    ``__getattr__ = version_getattr(__name__, "aicmo-gateway-acme")`` in a plugin's
    ``__init__``: importlib's metadata is imported when the version is asked for, not when
    the plugin is registered. A source tree without installed metadata gives ``0+unknown``.
    """

    def __getattr__(name: str) -> Any:
        if name != "__version__":
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version(distribution)
        except PackageNotFoundError:
            value = "0+unknown"
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
