"""Records of the ``crm_sync`` port."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import _validate as v
from aicmo_gateway.ports._fields import optional_text, required_datetime, utcnow

__all__ = ["Contact", "CrmRecord", "Engagement"]

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _identity(value: Any, field: str) -> str:
    """An address without display name, lower-cased: the CRM's identity of a contact."""
    return v.bare_address(value, field).lower()


# -- Contact -------------------------------------------------------------------


def _email(value: str) -> str:
    return _identity(value, "Contact.email")


def _first_name(value: str | None) -> str | None:
    return optional_text(value, "Contact.first_name")


def _last_name(value: str | None) -> str | None:
    return optional_text(value, "Contact.last_name")


def _company(value: str | None) -> str | None:
    return optional_text(value, "Contact.company")


def _title(value: str | None) -> str | None:
    return optional_text(value, "Contact.title")


def _phone(value: str | None) -> str | None:
    return optional_text(value, "Contact.phone")


def _website(value: str | None) -> str | None:
    return optional_text(value, "Contact.website")


def _linkedin_url(value: str | None) -> str | None:
    return optional_text(value, "Contact.linkedin_url")


def _tags(value: v.Strings) -> tuple[str, ...]:
    return v.text_tuple(value, "Contact.tags")


def _attributes(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return v.frozen_mapping(value, "Contact.attributes")


@attrs.frozen
class Contact:
    """A person in the CRM, identified by email address (upserted on it).

    ``email`` is stored as the bare address, lower-cased: ``"Ann <Ann@X.com>"`` becomes
    ``"ann@x.com"``.
    """

    email: str = attrs.field(converter=_email)
    first_name: str | None = attrs.field(converter=_first_name, default=None)
    last_name: str | None = attrs.field(converter=_last_name, default=None)
    company: str | None = attrs.field(converter=_company, default=None)
    title: str | None = attrs.field(converter=_title, default=None)
    phone: str | None = attrs.field(converter=_phone, default=None)
    website: str | None = attrs.field(converter=_website, default=None)
    linkedin_url: str | None = attrs.field(converter=_linkedin_url, default=None)
    #: one tag (a string) or several
    tags: tuple[str, ...] = attrs.field(converter=_tags, default=())
    #: further fields, passed to CRMs that have custom properties
    attributes: Mapping[str, Any] = attrs.field(converter=_attributes, factory=dict, hash=False)


# -- Engagement ----------------------------------------------------------------


def _contact_email(value: str) -> str:
    return _identity(value, "Engagement.contact_email")


def _kind(value: str) -> str:
    if not isinstance(value, str) or not _KIND.match(value):
        raise InvalidInput(
            f"Engagement.kind: {value!r} is not a valid kind; use a short snake_case word "
            "such as 'email_sent', 'email_reply', 'meeting', 'call' or 'note'",
            field="Engagement.kind",
        )
    return value


def _occurred_at(value: datetime) -> datetime:
    return required_datetime(value, "Engagement.occurred_at")


def _subject(value: str | None) -> str | None:
    return optional_text(value, "Engagement.subject")


def _body(value: str | None) -> str | None:
    return optional_text(value, "Engagement.body")


def _external_id(value: str | None) -> str | None:
    return optional_text(value, "Engagement.external_id")


def _metadata(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return v.frozen_mapping(value, "Engagement.metadata")


@attrs.frozen
class Engagement:
    """Something that happened with a contact: an email sent, a reply, a meeting.

    ``occurred_at`` must be timezone-aware; it defaults to now (UTC).
    """

    contact_email: str = attrs.field(converter=_contact_email)
    kind: str = attrs.field(converter=_kind)
    occurred_at: datetime = attrs.field(converter=_occurred_at, factory=utcnow)
    subject: str | None = attrs.field(converter=_subject, default=None)
    body: str | None = attrs.field(converter=_body, default=None, repr=False)
    #: the id of the thing in its own system (a Message-ID, a meeting id)
    external_id: str | None = attrs.field(converter=_external_id, default=None)
    metadata: Mapping[str, Any] = attrs.field(converter=_metadata, factory=dict, hash=False)


@attrs.frozen
class CrmRecord:
    """The CRM's answer: the record id, and whether it was created or updated."""

    id: str
    kind: str  # "contact" or "engagement"
    created: bool
    url: str | None = None
    #: ``False`` when the provider did not really write (e.g. ``noop``)
    performed: bool = True
