"""Derived idempotency keys: the same write payload always gives the same key.

The key is ``auto-`` and the first 32 hex digits of the SHA-256 of the text
``repr((capability, operation, canonical form))``. Keys are persisted (outbox rows, shared
ledgers, providers' de-duplication), so that text is fixed byte for byte
(``tests/test_idempotency_keys.py`` pins known keys). The canonical form
(:func:`canonical`) is the rule; for records, the common payload, the text is written
straight from the fields by code compiled once per class (:func:`_record_text`), the same
characters without building the form's tuples first.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

__all__ = ["canonical", "derive_idempotency_key"]

_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)
#: whether every type of an iterable of types is a scalar type (the loop runs in C)
_all_scalar = _SCALAR_TYPES.issuperset
_EMPTY: tuple[()] = ()
#: per attrs class: its canonical form, a function compiled once (see :func:`_record_form`)
_FORMS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
#: per attrs class: the ``repr`` of its canonical form, compiled once (:func:`_record_text`)
_TEXTS: dict[type, Callable[[Any], str]] = {}


def _compile(cls: type, kind: str, result: Callable[[str, list[str]], str]) -> Any:
    """A function of one record of ``cls`` that reads its fields into ``v0, v1, ...`` and
    returns ``result(class name, field expressions)``; each field expression is the field
    as it is when it is a scalar or ``()``, else its canonical form."""
    names = [a.name for a in attrs.fields(cls)]
    items = [
        f"(v{i} if v{i} is empty or type(v{i}) in scalars else canonical(v{i}))"
        for i in range(len(names))
    ]
    if len(names) > 1:
        body = f"    {', '.join(f'v{i}' for i in range(len(names)))}, = get(value)\n"
    elif names:
        body = "    v0 = get(value)\n"
    else:
        body = ""
    source = f"def form(value):\n{body}    return {result(cls.__name__, items)}\n"
    scope: dict[str, Any] = {
        "get": operator.attrgetter(*names) if names else None,
        "scalars": _SCALAR_TYPES,
        "empty": _EMPTY,
        "canonical": canonical,
    }
    exec(compile(source, f"<{kind} of {cls.__qualname__}>", "exec"), scope)  # noqa: S102
    return scope["form"]


def _record_form(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """The canonical form of the records of ``cls``: ``(class name, *fields)``, each field
    taken as it is when it is a scalar or ``()`` and made canonical otherwise, compiled
    once per class into straight-line code (no loop, no call for a scalar field)."""
    form = _FORMS.get(cls)
    if form is None:
        form = _FORMS[cls] = _compile(cls, "canonical form", _form_source)
    return form


def _form_source(name: str, items: list[str]) -> str:
    """The expression :func:`_record_form` compiles: the tuple ``(name, *items)``."""
    return f"({name!r}, {''.join(item + ', ' for item in items)})"


def _record_text(cls: type) -> Callable[[Any], str]:
    """``repr`` of :func:`_record_form`'s result, written as one f-string: the same
    characters as the tuple's ``repr`` (``(`` the items' reprs joined by ``, `` ``)``, and
    ``(name,)`` for a record without fields), without building the tuple."""
    text = _TEXTS.get(cls)
    if text is None:
        text = _TEXTS[cls] = _compile(cls, "canonical text", _text_source)
    return text


def _text_source(name: str, items: list[str]) -> str:
    """The expression :func:`_record_text` compiles: an f-string of the name and fields."""
    if not items:
        return repr(f"({name!r},)")
    head = repr(f"({name!r}, ")  # a plain string literal of the text's start
    fields = ", ".join("{" + item + "!r}" for item in items)
    return f"{head} f{fields + ')'!r}"


def canonical(value: Any) -> Any:
    """A structure of scalars and tuples with one meaning per payload (every field counts).

    Records (attrs classes) become ``(class name, *fields)`` (:func:`_record_form`); tuples
    and lists of scalars are taken as they are; bytes become their SHA-256, datetimes their
    ISO form, mappings their sorted items, anything else its ``str``.
    """
    cls = type(value)
    if cls in _SCALAR_TYPES:
        return value
    if cls is tuple or cls is list:
        if _all_scalar(map(type, value)):  # scalars only: already canonical
            return value if cls is tuple else tuple(value)
        return tuple([v if type(v) in _SCALAR_TYPES else canonical(v) for v in value])
    form = _FORMS.get(cls)
    if form is not None:
        return form(value)
    if attrs.has(cls):
        return _record_form(cls)(value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, tuple | list):
        return tuple(canonical(v) for v in value)
    if isinstance(value, bytes):
        return ("sha256", hashlib.sha256(value).hexdigest())
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if hasattr(value, "items"):
        return ("map", *sorted((str(k), canonical(v)) for k, v in value.items()))
    return ("str", str(value))


#: per (capability, operation): the start of the key's text, ``repr((capability, operation,``
_PREFIXES: dict[tuple[str, str], str] = {}
_sha256 = hashlib.sha256


def derive_idempotency_key(capability: str, operation: str, payload: Any) -> str:
    """A stable key for a write: the same payload always gives the same key.

    ``auto-`` and the first 32 hex digits of the SHA-256 of
    ``repr((capability, operation, canonical(payload)))``, written as the pair's start
    (kept per pair) and the payload's text: for a record, by its class's compiled text
    function; for anything else, the ``repr`` of its canonical form.
    """
    prefix = _PREFIXES.get((capability, operation))
    if prefix is None:
        prefix = _PREFIXES[(capability, operation)] = f"({capability!r}, {operation!r}, "
    cls = type(payload)
    text = _TEXTS.get(cls)
    if text is not None:
        body = text(payload)
    elif attrs.has(cls):
        body = _record_text(cls)(payload)
    else:
        body = repr(canonical(payload))
    return "auto-" + _sha256(f"{prefix}{body})".encode()).hexdigest()[:32]
