"""Checking a provider instance's settings against its type's settings class."""

from __future__ import annotations

import collections.abc
import difflib
import types
import typing
from pathlib import Path
from typing import Any

import attrs

from aicmo_gateway.secret import Secret

__all__ = ["SettingsProblem", "check_settings", "is_secret_key"]

_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "credential", "private")


def is_secret_key(key: str) -> bool:
    """Whether a setting's name suggests a credential (used to mask it when displayed)."""
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


@attrs.frozen
class SettingsProblem:
    key: str
    message: str
    fix: str


def _field_types(cls: type) -> dict[str, Any]:
    try:
        return dict(typing.get_type_hints(cls))
    except Exception:  # unresolvable annotations: skip type checks, keep key checks
        return {}


def _alternatives(tp: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return (tp,)


_ARRAYS = (list, tuple, typing.Sequence, collections.abc.Sequence)
_TABLES = (dict, collections.abc.Mapping)


def _describe_one(tp: Any, names: dict[Any, str]) -> str:
    origin = typing.get_origin(tp) or tp
    if origin in _ARRAYS:
        return "an array (e.g. [...])"
    if origin in _TABLES:
        return "a table (e.g. { key = value })"
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _describe(tp: Any) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        Path: "a path (string)",
        Secret: "a string (a secret: use ${ENV_VAR})",
    }
    parts = [_describe_one(t, names) for t in _alternatives(tp) if t is not type(None)]
    return " or ".join(parts)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _parse_scalar(text: str, tp: Any) -> Any:
    """A string read as an int, float or bool (environment values are strings)."""
    text = text.strip()
    try:
        if tp is int:
            return int(text)
        if tp is float:
            return float(text)
    except ValueError:
        return None
    lowered = text.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else None


def _coerce(value: Any, tp: Any, base: Path | None = None) -> tuple[bool, Any]:
    """Return (ok, converted) for the simple types config files can express."""
    alts = _alternatives(tp)
    for alt in alts:
        if alt is Any or alt is object:
            return True, value
        if alt is type(None) and value is None:
            return True, None
        if alt is Secret and isinstance(value, str | Secret):
            return True, Secret(value) if isinstance(value, str) else value
        if alt is bool and isinstance(value, bool):
            return True, value
        if isinstance(value, str) and alt in (int, float, bool):  # e.g. from ${ENV_VAR}
            parsed = _parse_scalar(value, alt)
            if parsed is not None:
                return True, parsed
        if alt is int and isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if alt is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True, float(value)
        if alt is str and isinstance(value, str):
            return True, value
        if alt is str and isinstance(value, Secret):
            return True, value.reveal()
        if alt is Path and isinstance(value, str | Path):
            path = Path(value).expanduser()
            return True, base / path if base is not None and not path.is_absolute() else path
        origin = typing.get_origin(alt)
        if origin in _ARRAYS and isinstance(value, list):
            return True, tuple(value) if origin is tuple else value
        if origin in _TABLES and isinstance(value, dict):
            return True, value
        if not isinstance(alt, type) and origin is None:
            return True, value  # a type we cannot check (a TypeVar, a Literal): let it pass
    return False, value


def check_settings(
    settings_cls: type | None, values: dict[str, Any], *, base: Path | None = None
) -> tuple[dict[str, Any], list[SettingsProblem]]:
    """Validate ``values`` against an attrs settings class; return converted values and problems.

    Unknown keys, missing required keys and values of the wrong simple type are
    reported. Relative paths in fields typed ``Path`` are taken relative to
    ``base`` (the config file's folder). A class that is not an attrs class is
    not checked (its factory's own ``TypeError`` is reported when the provider
    is built).
    """
    if settings_cls is None or not attrs.has(settings_cls):
        return dict(values), []
    fields = {f.alias or f.name: f for f in attrs.fields(settings_cls) if f.init}
    hints = _field_types(settings_cls)
    out: dict[str, Any] = {}
    problems: list[SettingsProblem] = []
    valid = ", ".join(sorted(fields)) or "none"
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            close = difflib.get_close_matches(key, list(fields), n=1)
            fix = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                SettingsProblem(
                    key,
                    "is not a setting of this provider type",
                    f"{fix}remove it, or use one of: {valid}",
                )
            )
            continue
        tp = hints.get(field.name)
        if tp is None:
            out[key] = value
            continue
        ok, converted = _coerce(value, tp, base)
        if not ok:
            shown = "********" if is_secret_key(key) else repr(value)
            problems.append(
                SettingsProblem(
                    key,
                    f"expected {_describe(tp)}, got {type(value).__name__} {shown}",
                    f"write {key} as {_describe(tp)}",
                )
            )
            continue
        out[key] = converted
    for name, field in fields.items():
        if field.default is attrs.NOTHING and name not in values:
            problems.append(
                SettingsProblem(
                    name, "is required but missing", f"add '{name} = ...' to this provider's table"
                )
            )
    return out, problems
