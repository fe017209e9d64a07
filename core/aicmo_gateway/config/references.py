"""``${ENV_VAR}`` references in config values, resolved against the environment.

``${VAR:-default}`` gives a default and ``$$`` writes a literal ``$``. A string that used a
reference becomes an :class:`~aicmo_gateway.config_values.EnvText`, which shows itself as
written. Used by :meth:`aicmo_gateway.config.tables.ConfigLoader.resolve`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aicmo_gateway.config_values import EnvText, key_part, shown

if TYPE_CHECKING:
    from aicmo_gateway.config.tables import ConfigLoader

__all__ = ["refuse_nul", "resolve"]

_REF = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.S)


def resolve(
    loader: ConfigLoader, value: Any, key: str, *, tables: bool = False
) -> tuple[Any, bool]:
    """Resolve references in strings, also in lists and tables; return (value, used_env).

    A string that used a reference becomes an :class:`EnvText`, which shows itself as
    written; a NUL character, written or from the environment, is refused. With
    ``tables``, the values in tables are resolved too (a provider setting such as
    ``headers = { X-Api-Key = "${KEY}" }``), never their keys. Problems go to ``loader``.
    """
    if isinstance(value, list):
        items = [resolve(loader, v, f"{key}[{i}]", tables=tables) for i, v in enumerate(value)]
        return [v for v, _ in items], any(u for _, u in items)
    if tables and isinstance(value, Mapping):
        pairs = {
            k: resolve(loader, v, f"{key}.{key_part(str(k))}", tables=True)
            for k, v in value.items()
        }
        return {k: v for k, (v, _) in pairs.items()}, any(u for _, u in pairs.values())
    if not isinstance(value, str):
        return value, False
    if "$" not in value:
        refuse_nul(loader, value, key)
        return value, False
    used = False
    env = loader.env

    def sub(match: re.Match[str]) -> str:
        nonlocal used
        found = match.group(0)
        if found == "$$":
            return "$"
        inner = match.group(1)
        var = _VAR.match(inner or "") if inner is not None else None
        if var is None:
            loader.problem(
                key,
                f"malformed environment reference {shown(found)}",
                "write ${NAME} with NAME made of letters, digits and '_' (or $$ for a literal '$')",
            )
            return ""
        used = True
        name, default = var.group(1), var.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        loader.problem(
            key,
            f"environment variable {name} is not set",
            f"export {name}=... before running, or write ${{{name}:-default}}",
        )
        return ""

    resolved = _REF.sub(sub, value)
    result = EnvText(resolved, value) if used else resolved
    refuse_nul(loader, result, key)
    return result, used


def refuse_nul(loader: ConfigLoader, value: str, key: str) -> None:
    """A problem for ``key`` when ``value`` holds a NUL character."""
    if "\x00" in value:
        loader.problem(
            key,
            f"{shown(value)} contains a NUL character",
            "remove it (a \\u0000 escape in the file, or a NUL in the variable's value)",
        )
