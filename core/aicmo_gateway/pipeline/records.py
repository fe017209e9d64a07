"""The records each step sends, built from one lead: keys, contact, message, engagement, event.

Everything here is deterministic in the lead's identity (its normalised email) and the
campaign, so a second run derives the same idempotency keys and the same Message-ID.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from email.utils import formataddr, parseaddr
from typing import Any

from aicmo_gateway.config.pipeline import COLUMN_FIELDS, PipelineSettings
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Contact, EmailMessage, Engagement, WebhookEvent

__all__ = [
    "contact_of",
    "engagement_of",
    "event_of",
    "idempotency_key",
    "identity",
    "merged_fields",
    "message_id_of",
    "message_of",
]

#: enrichment fields copied into the lead's fields where the CSV left them empty
_ENRICHED = ("first_name", "last_name", "title", "company", "domain", "linkedin_url", "phone")


def identity(email: str) -> str:
    """The lead's identity: its address, lower-cased and stripped."""
    return email.strip().lower()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def idempotency_key(campaign: str, lead: str, step: str) -> str:
    """``pipeline/<campaign>/<step>/<hash of the lead>``: the same on every run."""
    return f"pipeline/{campaign}/{step}/{_digest(campaign, lead)}"


def _sender_domain(sender: str | None) -> str:
    address = parseaddr(sender or "")[1]
    return address.rpartition("@")[2].lower() or "localhost"


def message_id_of(settings: PipelineSettings, lead: str) -> str:
    """The outreach message's Message-ID, so a Maildir or SMTP server can drop a repeat."""
    return (
        f"<{_digest(settings.campaign, lead, 'email')}.pipeline@{_sender_domain(settings.sender)}>"
    )


def merged_fields(
    fields: Mapping[str, str], enrichment: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The CSV's fields, with what enrichment found where a cell was empty."""
    merged: dict[str, Any] = {name: fields.get(name, "") for name in COLUMN_FIELDS}
    merged.update(fields)
    for name in _ENRICHED:
        value = (enrichment or {}).get(name)
        if value and not merged.get(name):
            merged[name] = str(value)
    return merged


def contact_of(fields: Mapping[str, Any], campaign: str, verdict: str | None) -> Contact:
    extra = {k: v for k, v in fields.items() if k not in COLUMN_FIELDS and k != "domain" and v}
    if verdict:
        extra["verification"] = verdict
    website = fields.get("website") or (
        f"https://{fields['domain']}" if fields.get("domain") else None
    )
    return Contact(
        email=fields["email"],
        first_name=fields.get("first_name") or None,
        last_name=fields.get("last_name") or None,
        company=fields.get("company") or None,
        title=fields.get("title") or None,
        phone=fields.get("phone") or None,
        website=website,
        linkedin_url=fields.get("linkedin_url") or None,
        tags=(campaign,),
        attributes=extra,
    )


def _recipients(fields: Mapping[str, Any]) -> list[str]:
    """``Ann Lee <ann@example.com>`` first, then the bare address if the name is refused."""
    name = " ".join(str(fields.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    address = str(fields["email"])
    return [formataddr((name, address)), address] if name else [address]


def message_of(
    settings: PipelineSettings,
    lead: str,
    fields: Mapping[str, Any],
    subject: str,
    text: str,
    html: str | None,
) -> EmailMessage:
    """The outreach message: marketing mail, one recipient, a Message-ID from the lead."""
    *named, bare = _recipients(fields)
    for to in named:
        try:
            return _message(settings, lead, to, subject, text, html)
        except InvalidInput as exc:
            if exc.field != "EmailMessage.to":
                raise
    return _message(settings, lead, bare, subject, text, html)


def _message(
    settings: PipelineSettings, lead: str, to: str, subject: str, text: str, html: str | None
) -> EmailMessage:
    return EmailMessage(
        to=to,
        subject=subject,
        text=text,
        html=html,
        sender=settings.sender,
        reply_to=settings.reply_to or (),
        message_id=message_id_of(settings, lead),
        headers={"X-Campaign": settings.campaign},
        category="marketing",
    )


def engagement_of(lead: str, campaign: str, subject: str | None, message_id: str) -> Engagement:
    return Engagement(
        contact_email=lead,
        kind="email_sent",
        subject=subject,
        external_id=message_id,
        metadata={"campaign": campaign},
    )


def event_of(
    settings: PipelineSettings,
    key: str,
    fields: Mapping[str, Any],
    message_id: str | None,
    verdict: str | None,
) -> WebhookEvent:
    data = {
        name: str(fields.get(name) or "")
        for name in ("email", "first_name", "last_name", "company", "title")
    }
    data.update(campaign=settings.campaign, message_id=message_id or "", verdict=verdict or "")
    return WebhookEvent(type=settings.webhook_event, data=data, id=key)
