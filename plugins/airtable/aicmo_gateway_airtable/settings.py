"""The settings of the ``airtable`` provider type: its config keys and their checks.

Each field is a config key. Invalid values raise ``ValueError`` naming the key and the fix;
the core reports them as configuration errors. The token is a
:class:`~aicmo_gateway.Secret`, so no repr, log line or error shows it.

This module is cheap to import (no HTTP client): the plugin's hook loads it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from aicmo_gateway import Secret
from aicmo_gateway.http import check_base_url

__all__ = [
    "CONTACT_COLUMNS",
    "CONTACT_FIELDS",
    "ENGAGEMENT_COLUMNS",
    "ENGAGEMENT_FIELDS",
    "AirtableSettings",
]

#: ``Contact`` field -> the column it is written to, unless ``fields`` says otherwise
CONTACT_COLUMNS: dict[str, str] = {
    "email": "Email",
    "first_name": "First Name",
    "last_name": "Last Name",
    "company": "Company",
    "title": "Title",
    "phone": "Phone",
    "website": "Website",
    "linkedin_url": "LinkedIn",
    "tags": "Tags",
}
CONTACT_FIELDS = frozenset(CONTACT_COLUMNS)
#: ``Engagement`` field -> column in ``engagements_table``, unless ``engagement_fields`` says so
ENGAGEMENT_COLUMNS: dict[str, str] = {
    "contact_email": "Email",
    "kind": "Kind",
    "occurred_at": "Date",
    "subject": "Subject",
    "body": "Body",
    "external_id": "External ID",
}
ENGAGEMENT_FIELDS = frozenset({*ENGAGEMENT_COLUMNS, "metadata"})
_BASE_ID = re.compile(r"^app[A-Za-z0-9]{14}$")
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _token(value: str | Secret) -> Secret:
    secret = Secret(value)
    if not secret.reveal().strip():
        raise ValueError(
            "api_key: is empty; set api_key = '${AIRTABLE_TOKEN}' (a personal access token "
            "with the data.records:read and data.records:write scopes on this base)"
        )
    return secret


def _check_base_id(_: Any, __: Any, value: str) -> None:
    if not isinstance(value, str) or not _BASE_ID.match(value):
        raise ValueError(
            f"base_id: {value!r} is not an Airtable base id; copy the 'app...' part of the "
            "base's URL (airtable.com/appXXXXXXXXXXXXXX/...)"
        )


def _check_table(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None and attribute.name == "engagements_table":
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name}: expected a table name or id ('Contacts' or 'tbl...')")


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")


def _merge_on(value: str | Iterable[str]) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not 1 <= len(items) <= 3 or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError(
            f"merge_on: {list(items)!r} must name 1 to 3 columns to match contacts on, "
            "e.g. merge_on = ['Email']"
        )
    return items


def _mapping(
    name: str, value: Mapping[str, str] | None, defaults: Mapping[str, str], known: frozenset[str]
) -> dict[str, str]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}: expected a table of field = 'Column name'")
    merged = dict(defaults)
    for field, column in value.items():
        if not isinstance(column, str):
            raise ValueError(f"{name}.{field}: expected a column name (or '' to skip it)")
        if field not in known and (name != "fields" or not _ATTRIBUTE.match(field)):
            choices = ", ".join(sorted(known))
            raise ValueError(f"{name}.{field}: not a field; use one of: {choices}")
        merged[field] = column.strip()
    return {field: column for field, column in merged.items() if column}


def _contact_columns(value: Mapping[str, str] | None) -> dict[str, str]:
    return _mapping("fields", value, CONTACT_COLUMNS, CONTACT_FIELDS)


def _engagement_columns(value: Mapping[str, str] | None) -> dict[str, str]:
    return _mapping("engagement_fields", value, ENGAGEMENT_COLUMNS, ENGAGEMENT_FIELDS)


@attrs.frozen
class AirtableSettings:
    """How to reach one Airtable base and its tables (the ``airtable`` provider type's keys).

    ``fields`` maps ``Contact`` fields to column names (the defaults are in
    :data:`CONTACT_COLUMNS`; ``''`` skips a field); any other key names an entry of
    ``Contact.attributes`` to write to that column.
    """

    #: a personal access token (data.records:read and data.records:write on the base)
    api_key: Secret = attrs.field(converter=_token)
    base_id: str = attrs.field(validator=_check_base_id)
    #: the contacts table (name or id)
    table: str = attrs.field(validator=_check_table)
    #: the engagements table (name or id); without it, log_engagement falls back
    engagements_table: str | None = attrs.field(default=None, validator=_check_table)
    #: the columns a contact is matched on (1 to 3), among the mapped ones
    merge_on: tuple[str, ...] = attrs.field(default=("Email",), converter=_merge_on)
    fields: Mapping[str, str] = attrs.field(factory=dict, converter=_contact_columns)
    engagement_fields: Mapping[str, str] = attrs.field(factory=dict, converter=_engagement_columns)
    #: let Airtable convert values (new select options, linked records by name)
    typecast: bool = False
    base_url: str = attrs.field(default="https://api.airtable.com", validator=check_base_url)
    #: seconds allowed for each request (and the longest wait for a request slot)
    timeout: float = attrs.field(default=30.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        columns = set(self.fields.values())
        for column in self.merge_on:
            if column not in columns:
                raise ValueError(
                    f"merge_on: {column!r} is not a column any contact field is written to; "
                    f"map one to it (fields = {{ email = {column!r} }}) or merge on one of: "
                    f"{', '.join(sorted(columns))}"
                )
        if not isinstance(self.typecast, bool):
            raise ValueError(f"typecast: expected true or false, got {self.typecast!r}")
