"""``Contact`` and ``Engagement`` records as Airtable ``fields`` objects (column -> value).

A field that is ``None`` or empty is left out, so an upsert keeps the value stored in Airtable
(as the SQLite mini-CRM does). Tags become a list (a multiple-select column), the engagement's
time an ISO 8601 UTC string, its metadata JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from aicmo_gateway import InvalidInput
from aicmo_gateway.ports import Contact, Engagement
from aicmo_gateway_airtable.settings import CONTACT_FIELDS

__all__ = ["contact_fields", "engagement_fields"]


def _plain(value: Any, field: str) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{field}: cannot be sent to Airtable as JSON ({exc}); convert it to a string, "
            "number, boolean or list first",
            field=field,
        ) from None
    return value


def contact_fields(contact: Contact, columns: Mapping[str, str]) -> dict[str, Any]:
    """The contact's values by column; attribute entries by their mapped columns."""
    found: dict[str, Any] = {}
    for field, column in columns.items():
        if field in CONTACT_FIELDS:
            value: Any = getattr(contact, field)
        else:
            value = _plain(contact.attributes.get(field), f"Contact.attributes[{field!r}]")
        if value is None or value == "" or value == ():
            continue
        found[column] = list(value) if field == "tags" else value
    return found


def engagement_fields(engagement: Engagement, columns: Mapping[str, str]) -> dict[str, Any]:
    """The engagement's values by column (``metadata`` as JSON text, when mapped)."""
    found: dict[str, Any] = {}
    for field, column in columns.items():
        value: Any = getattr(engagement, field)
        if field == "occurred_at":
            value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif field == "metadata":
            value = json.dumps(_plain(dict(value), "Engagement.metadata"), sort_keys=True)
            if value == "{}":
                continue
        if value is None or value == "":
            continue
        found[column] = value
    return found
