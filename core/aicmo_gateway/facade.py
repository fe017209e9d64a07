"""The per-capability clients users call: ``gateway.email_sending.send(...)`` and friends.

Each method mirrors its port and returns an :class:`~aicmo_gateway.Outcome`.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.errors import GatewayClosed, NotConfigured
from aicmo_gateway.outcome import Outcome
from aicmo_gateway.ports import (
    Contact,
    EmailMessage,
    Engagement,
    Lead,
    ReplyBatch,
    SocialPost,
    WebhookEvent,
)

if TYPE_CHECKING:
    from aicmo_gateway.compliance import Compliance, Prepared
    from aicmo_gateway.engine.chain import Chain
    from aicmo_gateway.feedback import ReplyFeedback

__all__ = [
    "CLOSED",
    "CapabilityClient",
    "CrmSync",
    "EmailSending",
    "EmailVerification",
    "LeadEnrichment",
    "ReplyFetching",
    "SocialPosting",
    "WebhookDispatch",
]


#: what a call on a closed gateway raises
CLOSED = (
    "the gateway is closed (aclose() was called, or its `async with` block ended): make every "
    "call before closing it, or build a new one with Gateway.from_config(...)"
)


class CapabilityClient:
    """Calls into one capability's chain; raises :class:`NotConfigured` when there is none."""

    capability = ""

    def __init__(self, chain: Chain | None, hint: str = "", dry_run: bool = False) -> None:
        self.chain = chain
        self._hint = hint
        self._dry_run = dry_run
        self._closed = False

    @property
    def configured(self) -> bool:
        return self.chain is not None

    def close(self) -> None:
        """Refuse every later call with :class:`GatewayClosed` (the gateway's ``aclose`` does)."""
        self._closed = True

    def _ready(self) -> Chain:
        """The chain (raises at once on a closed or unconfigured client)."""
        if self._closed:
            raise GatewayClosed(CLOSED)
        if self.chain is None:
            raise NotConfigured(
                f"{self.capability} has no providers configured; add to your config:\n\n"
                f'[capabilities.{self.capability}]\nproviders = ["mine"]\n\n'
                f'[providers.mine]\ntype = "..."\n\n{self._hint}'
            )
        return self.chain

    def _call(
        self,
        operation: str,
        payload: Any,
        idempotency_key: str | None,
        dry_run: bool | None,
        deadline: float | None,
    ) -> Coroutine[Any, Any, Outcome]:
        """The chain's call, to await (raises at once on a closed or unconfigured client)."""
        chain = self.chain
        if chain is None or self._closed:
            chain = self._ready()
        return chain.run(
            operation,
            payload,
            idempotency_key,
            self._dry_run if dry_run is None else dry_run,
            deadline,
        )


class EmailSending(CapabilityClient):
    capability = "email_sending"
    #: the suppression list and unsubscribe headers every message passes (set by the gateway)
    compliance: Compliance | None = None

    async def send(
        self,
        message: EmailMessage,
        *,
        idempotency_key: str | None = None,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        """Send one message; ``outcome.value`` is a ``SendReceipt``.

        A message to a suppressed recipient ends ``REJECTED`` without reaching a provider;
        suppressed recipients among others are dropped and listed in ``outcome.suppressed``.
        """
        if type(message) is not EmailMessage:
            _expect(message, EmailMessage, "message")
        if self.compliance is None:
            chain = self.chain
            if chain is None or self._closed:
                chain = self._ready()
            return await chain.run(
                "send",
                message,
                idempotency_key,
                self._dry_run if dry_run is None else dry_run,
                deadline,
            )
        chain = self._ready()
        prepared = await self.compliance.prepare(message)
        if prepared.message is None:
            return rejected(chain, prepared, idempotency_key)
        outcome = await self._call("send", prepared.message, idempotency_key, dry_run, deadline)
        if prepared.dropped:
            outcome = attrs.evolve(
                outcome, suppressed={k: e.describe() for k, e in prepared.dropped.items()}
            )
        return outcome


class ReplyFetching(CapabilityClient):
    capability = "reply_fetching"
    #: writes bounces, complaints and mailto unsubscribes into the list (set by the gateway)
    feedback: ReplyFeedback | None = None

    async def fetch_replies(
        self,
        cursor: str | None = None,
        *,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        """Replies newer than ``cursor``; ``outcome.value`` is a ``ReplyBatch``.

        With a suppression list, the hard bounces, complaints, soft-bounce runs and mailto
        unsubscribes among them are written into it before this returns, and
        ``outcome.suppressed`` names each address they suppress. When the list cannot be
        written this raises: fetch again from the same cursor (nothing counts twice).
        """
        outcome = await self._call("fetch_replies", cursor, None, dry_run, deadline)
        if self.feedback is None or not outcome.ok or not isinstance(outcome.value, ReplyBatch):
            return outcome
        found = await self.feedback.apply(outcome.value, outcome.provider)
        if found:
            outcome = attrs.evolve(outcome, suppressed={k: e.describe() for k, e in found.items()})
        return outcome


class CrmSync(CapabilityClient):
    capability = "crm_sync"

    async def upsert_contact(
        self,
        contact: Contact,
        *,
        idempotency_key: str | None = None,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        """Create or update a contact by email; ``outcome.value`` is a ``CrmRecord``."""
        _expect(contact, Contact, "contact")
        return await self._call("upsert_contact", contact, idempotency_key, dry_run, deadline)

    async def upsert_contacts(
        self,
        contacts: Sequence[Contact],
        *,
        idempotency_key: str | None = None,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        """Upsert many contacts (natively batched where the provider can)."""
        items = tuple(contacts)
        for item in items:
            _expect(item, Contact, "contacts[]")
        return await self._call("upsert_contacts", items, idempotency_key, dry_run, deadline)

    async def log_engagement(
        self,
        engagement: Engagement,
        *,
        idempotency_key: str | None = None,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        """Record an engagement on a contact; ``outcome.value`` is a ``CrmRecord``."""
        _expect(engagement, Engagement, "engagement")
        return await self._call("log_engagement", engagement, idempotency_key, dry_run, deadline)


class LeadEnrichment(CapabilityClient):
    capability = "lead_enrichment"

    async def enrich(
        self, lead: Lead, *, dry_run: bool | None = None, deadline: float | None = None
    ) -> Outcome:
        """Enrich one lead; ``outcome.value`` is an ``Enrichment``."""
        _expect(lead, Lead, "lead")
        return await self._call("enrich", lead, None, dry_run, deadline)

    async def enrich_many(
        self, leads: Sequence[Lead], *, dry_run: bool | None = None, deadline: float | None = None
    ) -> Outcome:
        items = tuple(leads)
        for item in items:
            _expect(item, Lead, "leads[]")
        return await self._call("enrich_many", items, None, dry_run, deadline)


class EmailVerification(CapabilityClient):
    capability = "email_verification"

    async def verify(
        self, address: str, *, dry_run: bool | None = None, deadline: float | None = None
    ) -> Outcome:
        """A verdict on one address; ``outcome.value`` is a ``Verification``."""
        if type(address) is not str:
            _expect(address, str, "address")
        chain = self.chain
        if chain is None or self._closed:
            chain = self._ready()
        return await chain.run(
            "verify", address, None, self._dry_run if dry_run is None else dry_run, deadline
        )

    async def verify_many(
        self,
        addresses: Sequence[str],
        *,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        items = tuple(addresses)
        for item in items:
            _expect(item, str, "addresses[]")
        return await self._call("verify_many", items, None, dry_run, deadline)


class SocialPosting(CapabilityClient):
    capability = "social_posting"

    async def post(
        self,
        post: SocialPost,
        *,
        idempotency_key: str | None = None,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        """Publish a post; ``outcome.value`` is a ``PostReceipt``."""
        _expect(post, SocialPost, "post")
        return await self._call("post", post, idempotency_key, dry_run, deadline)


class WebhookDispatch(CapabilityClient):
    capability = "webhook_dispatch"

    async def dispatch(
        self,
        event: WebhookEvent,
        *,
        idempotency_key: str | None = None,
        dry_run: bool | None = None,
        deadline: float | None = None,
    ) -> Outcome:
        """Deliver an event; ``outcome.value`` is a ``DeliveryReceipt``."""
        _expect(event, WebhookEvent, "event")
        return await self._call("dispatch", event, idempotency_key, dry_run, deadline)


CLIENTS: dict[str, type[CapabilityClient]] = {
    cls.capability: cls
    for cls in (
        EmailSending,
        ReplyFetching,
        CrmSync,
        LeadEnrichment,
        EmailVerification,
        SocialPosting,
        WebhookDispatch,
    )
}


def rejected(chain: Chain, prepared: Prepared, idempotency_key: str | None) -> Outcome:
    """The outcome of a message every recipient of which is suppressed (in the audit trail)."""
    import uuid
    from datetime import UTC, datetime

    from aicmo_gateway.outcome import CallRecord, Status

    outcome = Outcome(
        Status.REJECTED,
        value=None,
        provider=None,
        attempts=(),
        call_id=uuid.uuid4().hex,
        capability="email_sending",
        operation="send",
        idempotency_key=idempotency_key,
        reason=prepared.reason(),
        suppressed={k: e.describe() for k, e in prepared.dropped.items()},
    )
    chain.audit.add(CallRecord(outcome, datetime.now(UTC), 0.0))
    return outcome


def _expect(value: Any, cls: type, name: str) -> None:
    if not isinstance(value, cls):
        raise TypeError(
            f"{name}: expected {cls.__name__}, got {type(value).__name__}; "
            f"build one with aicmo_gateway.ports.{cls.__name__}(...)"
            if cls is not str
            else f"{name}: expected a string, got {type(value).__name__}"
        )
