"""Leads to Dropcontact's input records, and enriched records to ``Enrichment``.

Each field an ``Enrichment`` built here fills is named in ``attributes["sources"]``
(``"dropcontact:enrich/all"``). ``found`` is true only when Dropcontact added something
the lead did not already carry: a verified address other than the one sent, a job, a
phone, a LinkedIn profile, company data. A record that only echoes the lead (cleaned) is
``found=False``, so a ``waterfall`` chain goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aicmo_gateway.ports import Enrichment, Lead, Verdict
from aicmo_gateway_dropcontact.verdicts import SOURCE, emails_of, judge

__all__ = ["enrichment_of", "record_of"]

#: enriched-record keys whose value is news when the lead did not carry them
_COMPANY_KEYS = ("website", "company", "linkedin")
_NEW_KEYS = (
    "job",
    "phone",
    "mobile_phone",
    "nb_employees",
    "naf5_des",
    "siren",
    "company_linkedin",
)
_ATTRIBUTE_KEYS = (
    "civility",
    "job_level",
    "job_function",
    "company_linkedin",
    "siren",
    "siret",
    "naf5_code",
    "naf5_des",
    "country",
)


def record_of(lead: Lead) -> dict[str, str]:
    """The input record for a lead (only the fields it has)."""
    record = {
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company,
        "website": lead.domain,
        "linkedin": lead.linkedin_url,
    }
    return {key: value for key, value in record.items() if value}


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _domain(website: str | None) -> str | None:
    if website is None:
        return None
    host = website.lower()
    for prefix in ("https://", "http://", "www."):
        host = host.removeprefix(prefix)
    return host.split("/")[0] or None


def _best_email(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for email, qualification in emails_of(record):
        if judge(qualification)[0] is Verdict.DELIVERABLE:
            return email, qualification
    return None, None


def enrichment_of(lead: Lead, record: Mapping[str, Any]) -> Enrichment:
    """The enrichment Dropcontact's record gives for ``lead``."""
    sent = record_of(lead)
    email, qualification = _best_email(record)
    fields: dict[str, str | None] = {
        "email": email,
        "first_name": _text(record.get("first_name")),
        "last_name": _text(record.get("last_name")),
        "title": _text(record.get("job")),
        "company": _text(record.get("company")),
        "domain": _domain(_text(record.get("website"))),
        "linkedin_url": _text(record.get("linkedin")),
        "phone": _text(record.get("mobile_phone")) or _text(record.get("phone")),
        "location": _text(record.get("location")) or _text(record.get("country")),
        "industry": _text(record.get("naf5_des")),
        "company_size": _text(record.get("nb_employees")),
    }
    new = bool(email and email.lower() != (lead.email or "").lower())
    new = new or any(_text(record.get(key)) for key in _NEW_KEYS)
    new = new or any(_text(record.get(key)) and key not in sent for key in _COMPANY_KEYS)
    attributes: dict[str, Any] = {
        "sources": {key: SOURCE for key, value in fields.items() if value},
        "emails": [list(entry) for entry in emails_of(record)],
    }
    if qualification:
        attributes["qualification"] = qualification
    for key in _ATTRIBUTE_KEYS:
        value = _text(record.get(key))
        if value:
            attributes[key] = value
    if not new:
        del attributes["sources"]  # nothing is reported as found
        attributes["reason"] = "Dropcontact found nothing the lead lacked"
        return Enrichment(found=False, attributes=attributes)
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
