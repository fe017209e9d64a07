"""The port records as JSON text and back, for the outbox's rows.

Every frozen record of :mod:`aicmo_gateway.ports` round-trips: ``decode(encode(x)) == x``.
Bytes (attachments, media), datetimes, enums and mappings are tagged so they come back
as they went in; sequences come back as tuples (the records' converters make them so).
A :class:`~aicmo_gateway.secret.Secret` is refused: an outbox row never holds one.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

import aicmo_gateway.ports as ports
from aicmo_gateway.secret import Secret

__all__ = ["RecordError", "decode", "encode"]

#: the record and enum classes a row may name, by class name
_CLASSES: dict[str, type] = {
    name: obj
    for name in ports.__all__
    if isinstance(obj := getattr(ports, name), type)
    and (attrs.has(obj) or issubclass(obj, enum.Enum))
}
_MAX_DEPTH = 32


class RecordError(ValueError):
    """A value the outbox cannot store, or a stored text it cannot read back."""


def _to_json(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise RecordError(f"the payload nests deeper than {_MAX_DEPTH} levels")
    if value is None or (
        isinstance(value, bool | int | float | str) and not isinstance(value, enum.Enum)
    ):
        return value
    if isinstance(value, Secret):
        raise RecordError("the payload holds a Secret: the outbox never stores secrets")
    if isinstance(value, enum.Enum):
        return {"$enum": type(value).__name__, "value": value.value}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    cls = type(value)
    if attrs.has(cls):
        if _CLASSES.get(cls.__name__) is not cls:
            raise RecordError(f"{cls.__name__} is not a record of aicmo_gateway.ports")
        fields = {
            a.alias or a.name: _to_json(getattr(value, a.name), depth + 1)
            for a in attrs.fields(cls)
            if a.init
        }
        return {"$record": cls.__name__, "fields": fields}
    if isinstance(value, Mapping):
        return {
            "$map": [[_to_json(k, depth + 1), _to_json(v, depth + 1)] for k, v in value.items()]
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_to_json(v, depth + 1) for v in value]
    raise RecordError(f"cannot store a {cls.__name__} in the outbox")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    if not isinstance(value, dict):
        return value
    if "$record" in value:
        cls = _CLASSES.get(value["$record"])
        if cls is None or not attrs.has(cls):
            raise RecordError(f"unknown record {value['$record']!r}")
        return cls(**{k: _from_json(v) for k, v in value["fields"].items()})
    if "$enum" in value:
        cls = _CLASSES.get(value["$enum"])
        if cls is None or not issubclass(cls, enum.Enum):
            raise RecordError(f"unknown enum {value['$enum']!r}")
        return cls(value["value"])
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$map" in value:
        return {_from_json(k): _from_json(v) for k, v in value["$map"]}
    raise RecordError(f"unreadable outbox value with keys {sorted(value)}")


def encode(payload: Any) -> str:
    """``payload`` (a port record, a sequence of them, or a scalar) as JSON text."""
    return json.dumps(_to_json(payload, 0), separators=(",", ":"), allow_nan=False)


def decode(text: str) -> Any:
    """The payload :func:`encode` wrote; raises :class:`RecordError` when it cannot."""
    try:
        return _from_json(json.loads(text))
    except RecordError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise RecordError(f"unreadable outbox payload: {type(exc).__name__}: {exc}") from None
