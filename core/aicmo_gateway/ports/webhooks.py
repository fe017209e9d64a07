"""Records of the ``webhook_dispatch`` port."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import _validate as v
from aicmo_gateway.ports._fields import required_datetime, utcnow

__all__ = ["DeliveryReceipt", "WebhookEvent"]

_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


def _event_type(value: str) -> str:
    field = "WebhookEvent.type"
    if not isinstance(value, str) or not _TYPE.match(value):
        raise InvalidInput(
            f"{field}: {value!r} is not an event type; use a dotted name such as "
            "'lead.replied' (letters, digits, '.', '_', ':' or '-', at most 100 characters)",
            field=field,
        )
    return value


def _plain_json(value: Any, path: str) -> Any:
    """A copy of ``value`` made of dicts, lists, strings, numbers, booleans and None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(
                f"{path}: {value!r} has no JSON form; pass None or a string instead",
                field="WebhookEvent.data",
            )
        return float(value)
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(
                    f"{path}: the key {key!r} is not a string; JSON object keys are "
                    "strings, convert it with str()",
                    field="WebhookEvent.data",
                )
            result[str.__str__(key)] = _plain_json(item, f"{path}[{key!r}]")
        return result
    if isinstance(value, list | tuple):
        return [_plain_json(item, f"{path}[{i}]") for i, item in enumerate(value)]
    hint = " (e.g. value.isoformat())" if isinstance(value, datetime) else ""
    raise InvalidInput(
        f"{path}: a value of type {type(value).__name__} is not JSON-serialisable; "
        f"convert it to a string, number, list or mapping first{hint}",
        field="WebhookEvent.data",
    )


def _data(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    field = "WebhookEvent.data"
    top = v.frozen_mapping(value, field)
    return MappingProxyType(_plain_json(top, field))


def _occurred_at(value: datetime) -> datetime:
    return required_datetime(value, "WebhookEvent.occurred_at")


def _id(value: str | None) -> str | None:
    return v.optional_header(value, "WebhookEvent.id")


@attrs.frozen
class WebhookEvent:
    """An event for an automation platform (Make, Zapier, n8n, any HTTPS endpoint).

    ``data`` must be JSON-serialisable; the record keeps its own copy (nested lists and
    tuples become lists). ``occurred_at`` must be timezone-aware; it defaults to now (UTC).
    """

    type: str = attrs.field(converter=_event_type)
    data: Mapping[str, Any] = attrs.field(converter=_data, factory=dict, hash=False)
    occurred_at: datetime = attrs.field(converter=_occurred_at, factory=utcnow)
    #: a stable id receivers use to drop duplicates (Standard Webhooks ``webhook-id``)
    id: str | None = attrs.field(converter=_id, default=None)

    def to_json(self) -> str:
        """The payload as compact JSON: ``{"data": ..., "timestamp": ..., "type": ...}``."""
        return json.dumps(
            {"type": self.type, "timestamp": self.occurred_at.isoformat(), "data": dict(self.data)},
            separators=(",", ":"),
            sort_keys=True,
            allow_nan=False,
        )


@attrs.frozen
class DeliveryReceipt:
    """What the endpoint answered."""

    status_code: int | None
    delivery_id: str | None = None
    endpoint: str | None = None
    #: ``False`` when the provider did not really deliver (e.g. ``noop``)
    performed: bool = True
