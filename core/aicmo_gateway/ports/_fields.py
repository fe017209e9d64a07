"""Field converters shared by the records: datetimes and optional text.

The records declare one small named converter per field (``attrs.field(converter=_to)``):
the converter's parameter type becomes the ``__init__`` parameter type that type checkers
see, and its body passes the field's name to the validator for the error message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aicmo_gateway.errors import InvalidInput


def aware_datetime(value: Any, field: str) -> datetime | None:
    """An optional timezone-aware datetime."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"{field}: expected a datetime, got {type(value).__name__}; "
            "pass one such as datetime.now(timezone.utc)",
            field=field,
        )
    if value.utcoffset() is None:
        raise InvalidInput(
            f"{field}: the datetime has no timezone; pass an aware one, "
            "e.g. datetime.now(timezone.utc)",
            field=field,
        )
    return value


def required_datetime(value: Any, field: str) -> datetime:
    """A timezone-aware datetime; ``None`` is refused (leave the argument out for "now")."""
    checked = aware_datetime(value, field)
    if checked is None:
        raise InvalidInput(
            f"{field}: expected a datetime, got None; pass an aware datetime "
            "or leave the argument out for the current time",
            field=field,
        )
    return checked


def utcnow() -> datetime:
    return datetime.now(UTC)


def optional_text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected a string, got {type(value).__name__}", field=field)
    return value
