"""Apollo's JSON to the port's records, and leads to Apollo's match parameters.

Each field of an ``Enrichment`` built here names where it came from in
``attributes["sources"]`` (``{"title": "apollo:people/match", "industry":
"apollo:organizations/enrich", ...}``), so an application merging several enrichers
can tell which service said what.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aicmo_gateway.ports import Enrichment, Lead

__all__ = [
    "BULK_MATCH",
    "ORG_ENRICH",
    "PEOPLE_MATCH",
    "enrichment_of",
    "lead_details",
    "needs_company",
    "not_found",
]

PEOPLE_MATCH = "apollo:people/match"
BULK_MATCH = "apollo:people/bulk_match"
ORG_ENRICH = "apollo:organizations/enrich"

#: the address Apollo puts in ``email`` when the plan has not unlocked the real one
_LOCKED_EMAILS = frozenset({"email_not_unlocked@domain.com"})


def lead_details(lead: Lead) -> dict[str, str]:
    """The people-match parameters for a lead (only those it has)."""
    details = {
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "organization_name": lead.company,
        "domain": lead.domain,
        "linkedin_url": lead.linkedin_url,
    }
    return {key: value for key, value in details.items() if value}


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def not_found(reason: str, **attributes: Any) -> Enrichment:
    """Apollo answered, but matched nobody: an empty answer, so a waterfall goes on."""
    return Enrichment(found=False, attributes={"reason": reason, **attributes})


def needs_company(person: Mapping[str, Any]) -> bool:
    """Whether the person's match lacks the company's firmographics."""
    organization = _mapping(person.get("organization"))
    return not (organization.get("industry") or organization.get("estimated_num_employees"))


def _location(record: Mapping[str, Any]) -> str | None:
    parts = [_text(record.get(key)) for key in ("city", "state", "country")]
    found = [part for part in parts if part]
    return ", ".join(found) if found else None


def _phone(person: Mapping[str, Any]) -> str | None:
    numbers = person.get("phone_numbers")
    if isinstance(numbers, list):
        for number in numbers:
            entry = _mapping(number)
            found = _text(entry.get("sanitized_number")) or _text(entry.get("raw_number"))
            if found:
                return found
    return None


def _email(person: Mapping[str, Any]) -> str | None:
    email = _text(person.get("email"))
    if email is None or email.lower() in _LOCKED_EMAILS or "@" not in email:
        return None
    return email


def _company_fields(organization: Mapping[str, Any]) -> dict[str, str | None]:
    size = organization.get("estimated_num_employees")
    return {
        "company": _text(organization.get("name")),
        "domain": _text(organization.get("primary_domain")),
        "industry": _text(organization.get("industry")),
        "company_size": _text(size) if size else None,
    }


def enrichment_of(
    person: Mapping[str, Any],
    source: str,
    *,
    organization: Mapping[str, Any] | None = None,
) -> Enrichment:
    """The enrichment for a matched person; ``organization`` from organization enrichment
    fills the company fields the person's match lacks."""
    fields: dict[str, str | None] = {
        "email": _email(person),
        "first_name": _text(person.get("first_name")),
        "last_name": _text(person.get("last_name")),
        "title": _text(person.get("title")),
        "linkedin_url": _text(person.get("linkedin_url")),
        "phone": _phone(person),
        "location": _location(person),
    }
    sources = {key: source for key, value in fields.items() if value}
    own = _company_fields(_mapping(person.get("organization")))
    extra = _company_fields(_mapping(organization))
    for key, value in own.items():
        if value:
            fields[key] = value
            sources[key] = source
        elif extra[key]:
            fields[key] = extra[key]
            sources[key] = ORG_ENRICH
        else:
            fields[key] = None
    attributes: dict[str, Any] = {"sources": sources}
    for key, name in (
        ("id", "apollo_person_id"),
        ("organization_id", "apollo_organization_id"),
        ("email_status", "email_status"),
        ("seniority", "seniority"),
        ("headline", "headline"),
    ):
        value = _text(person.get(key))
        if value:
            attributes[name] = value
    return Enrichment(
        found=True,
        email=fields["email"],
        first_name=fields["first_name"],
        last_name=fields["last_name"],
        title=fields["title"],
        company=fields["company"],
        domain=fields["domain"],
        linkedin_url=fields["linkedin_url"],
        phone=fields["phone"],
        location=fields["location"],
        industry=fields["industry"],
        company_size=fields["company_size"],
        attributes=attributes,
    )
