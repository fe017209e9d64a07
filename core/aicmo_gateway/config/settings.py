"""Checking a provider instance's settings against its type's settings class."""

from __future__ import annotations

import collections.abc
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any

import attrs

from aicmo_gateway.config_values import (
    BadValue,
    EnvText,
    Range,
    key_part,
    plain,
    read_bool,
    read_number,
    shown,
)
from aicmo_gateway.errors import ConfigProblem
from aicmo_gateway.scrub import is_secret_key
from aicmo_gateway.secret import Secret

__all__ = ["check_settings", "is_secret_key"]


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


_NUMBERS = {int: Range(-math.inf, math.inf, whole=True), float: Range(-math.inf, math.inf)}


def _scalar(value: Any, tp: Any, key: str) -> tuple[bool, Any, BadValue | None]:
    """An int, float or bool setting: (ok, value, why not). Strings only from ``${VAR}``."""
    try:
        if tp is bool:
            return True, read_bool(value, key), None
        if isinstance(value, float) and not math.isfinite(value):
            raise BadValue(
                f"{shown(value)} is not a finite number", f"write {key} as {_describe(tp)}"
            )
        return True, read_number(value, _NUMBERS[tp], key, None), None
    except BadValue as bad:
        return False, value, bad


def _coerce(value: Any, tp: Any, key: str, base: Path | None = None) -> tuple[bool, Any]:
    """Return (ok, converted) for the simple types config files can express."""
    alts = _alternatives(tp)
    for alt in alts:
        if alt is Any or alt is object:
            return True, plain(value)
        if alt is type(None) and value is None:
            return True, None
        if alt is Secret and isinstance(value, str | Secret):
            return True, Secret(plain(value)) if isinstance(value, str) else value
        if alt in (int, float, bool) and not (alt is float and isinstance(value, bool)):
            ok, converted, _ = _scalar(value, alt, key)
            if ok:
                return True, converted
        if alt is str and isinstance(value, str):
            return True, plain(value)
        if alt is str and isinstance(value, Secret):
            return True, value.reveal()
        if alt is Path and isinstance(value, str | Path):
            path = Path(plain(value)).expanduser()
            return True, base / path if base is not None and not path.is_absolute() else path
        origin = typing.get_origin(alt)
        if origin in _ARRAYS and isinstance(value, list):
            return True, tuple(plain(value)) if origin is tuple else plain(value)
        if origin in _TABLES and isinstance(value, dict):
            return True, value
        if not isinstance(alt, type) and origin is None:
            return True, plain(value)  # a type we cannot check (a TypeVar, a Literal): let it pass
    return False, value


def _refusal(where: _Where, key: str, value: Any, tp: Any) -> ConfigProblem:
    """Why ``value`` does not fit ``tp``, with the fix; the value shown as :func:`shown` does."""
    for alt in _alternatives(tp):
        if alt in (int, float, bool):
            _, _, bad = _scalar(value, alt, key)
            if bad is not None and isinstance(value, str | float):
                return where.problem(key, bad.message, bad.fix)
    what = "********" if is_secret_key(key) else shown(value)
    fix = f"write {key} as {_describe(tp)}"
    if isinstance(value, EnvText):
        names = ", ".join(value.variables) or "the variable"
        fix = f"set {names} to {_describe(tp)}"
    return where.problem(key, f"expected {_describe(tp)}, got {type(value).__name__} {what}", fix)


@attrs.frozen
class _Where:
    """The file and the provider table whose settings are checked, for the problems' keys."""

    source: str
    table: str
    #: appended to each message, e.g. " (type 'smtp')"
    note: str

    def problem(self, key: str, message: str, fix: str) -> ConfigProblem:
        return ConfigProblem(self.source, f"{self.table}.{key}", f"{message}{self.note}", fix)


def check_settings(
    settings_cls: type | None,
    values: dict[str, Any],
    *,
    base: Path | None = None,
    source: str = "<mapping>",
    table: str = "settings",
    note: str = "",
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """Validate ``values`` against an attrs settings class; return converted values and problems.

    Unknown keys, missing required keys and values of the wrong simple type are
    reported, each as a :class:`ConfigProblem` of ``source`` keyed ``<table>.<key>``
    (``note`` is appended to the message). Relative paths in fields typed ``Path`` are
    taken relative to ``base`` (the config file's folder). A class that is not an attrs
    class is not checked (its factory's own ``TypeError`` is reported when the provider
    is built).
    """
    where = _Where(source, table, note)
    if settings_cls is None or not attrs.has(settings_cls):
        return {key: plain(value) for key, value in values.items()}, []
    fields = {f.alias or f.name: f for f in attrs.fields(settings_cls) if f.init}
    hints = _field_types(settings_cls)
    out: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    valid = ", ".join(sorted(fields)) or "none"
    for key, value in values.items():
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            close = (
                difflib.get_close_matches(key, list(fields), n=1) if isinstance(key, str) else []
            )
            fix = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                where.problem(
                    key_part(key),
                    "is not a setting of this provider type",
                    f"{fix}remove it, or use one of: {valid}",
                )
            )
            continue
        tp = hints.get(field.name)
        if tp is None:
            out[key] = plain(value)
            continue
        ok, converted = _coerce(value, tp, key, base)
        if not ok:
            problems.append(_refusal(where, key, value, tp))
            continue
        out[key] = converted
    for name, field in fields.items():
        if field.default is attrs.NOTHING and name not in values:
            problems.append(
                where.problem(
                    name, "is required but missing", f"add '{name} = ...' to this provider's table"
                )
            )
    return out, problems
