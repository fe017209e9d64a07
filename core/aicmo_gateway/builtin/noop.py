"""No-op providers, one per port: they perform nothing and never pretend otherwise.

Writes return receipts and records with ``performed=False``; reads return
honest empty answers (no replies, nothing found, an ``UNKNOWN`` verdict). Use
them in tests, dry runs, or to switch a capability off without removing it
from the configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

import aicmo_gateway.ports as ports  # a lazy package: the records load on first use

if TYPE_CHECKING:
    from aicmo_gateway.ports import (
        Contact,
        CrmRecord,
        DeliveryReceipt,
        EmailMessage,
        Engagement,
        Enrichment,
        Lead,
        PostReceipt,
        ReplyBatch,
        SendReceipt,
        SocialPost,
        Verification,
        WebhookEvent,
    )

__all__ = [
    "NoopCrmSyncer",
    "NoopEmailSender",
    "NoopEmailVerifier",
    "NoopLeadEnricher",
    "NoopReplyFetcher",
    "NoopSocialPoster",
    "NoopWebhookDispatcher",
]

NOOP_VERIFIER_REASON = "the noop verifier checks nothing"


class _Checked:
    def check(self) -> None:
        """Nothing to check: a no-op provider is always usable."""


@attrs.frozen
class NoopEmailSender(_Checked):
    """Sends nothing; the receipt says ``performed=False`` and accepts no recipient."""

    def send(self, message: EmailMessage) -> SendReceipt:
        return ports.SendReceipt(message_id=message.message_id, accepted=(), performed=False)


@attrs.frozen
class NoopReplyFetcher(_Checked):
    """Finds no replies; the cursor comes back unchanged."""

    def fetch_replies(self, cursor: str | None) -> ReplyBatch:
        return ports.ReplyBatch(replies=(), cursor=cursor, has_more=False)


@attrs.frozen
class NoopCrmSyncer(_Checked):
    """Stores nothing; records say ``performed=False`` and ``created=False``."""

    def upsert_contact(self, contact: Contact) -> CrmRecord:
        return ports.CrmRecord(id=contact.email, kind="contact", created=False, performed=False)

    def upsert_contacts(self, contacts: Sequence[Contact]) -> list[CrmRecord]:
        return [self.upsert_contact(contact) for contact in contacts]

    def log_engagement(self, engagement: Engagement) -> CrmRecord:
        return ports.CrmRecord(
            id=engagement.external_id or "",
            kind="engagement",
            created=False,
            performed=False,
        )


@attrs.frozen
class NoopLeadEnricher(_Checked):
    """Finds nothing: every answer is ``Enrichment(found=False)``."""

    def enrich(self, lead: Lead) -> Enrichment:
        return ports.Enrichment(found=False)

    def enrich_many(self, leads: Sequence[Lead]) -> list[Enrichment]:
        return [self.enrich(lead) for lead in leads]


@attrs.frozen
class NoopEmailVerifier(_Checked):
    """Checks nothing: every verdict is ``UNKNOWN``."""

    def verify(self, address: str) -> Verification:
        return ports.Verification(
            address=address, verdict=ports.Verdict.UNKNOWN, reason=NOOP_VERIFIER_REASON
        )

    def verify_many(self, addresses: Sequence[str]) -> list[Verification]:
        return [self.verify(address) for address in addresses]


@attrs.frozen
class NoopSocialPoster(_Checked):
    """Publishes nothing; the receipt has no post id and says ``performed=False``."""

    def post(self, post: SocialPost) -> PostReceipt:
        return ports.PostReceipt(post_id=None, url=None, performed=False)


@attrs.frozen
class NoopWebhookDispatcher(_Checked):
    """Delivers nothing; the receipt has no status code and says ``performed=False``."""

    def dispatch(self, event: WebhookEvent) -> DeliveryReceipt:
        return ports.DeliveryReceipt(status_code=None, delivery_id=event.id, performed=False)
