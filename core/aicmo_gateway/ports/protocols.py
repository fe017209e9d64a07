"""The seven port protocols and the table of their operations and side effects.

Port methods may be ``async def`` or plain ``def`` (plain ones run in a worker
thread). ``check()`` and ``aclose()`` are optional on every provider.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:  # annotations only: the table of ports does not build the record classes
    from aicmo_gateway.ports.crm import Contact, CrmRecord, Engagement
    from aicmo_gateway.ports.email import EmailMessage, ReplyBatch, SendReceipt
    from aicmo_gateway.ports.leads import Enrichment, Lead, Verification
    from aicmo_gateway.ports.social import PostReceipt, SocialPost
    from aicmo_gateway.ports.webhooks import DeliveryReceipt, WebhookEvent

__all__ = [
    "PORTS",
    "CrmSyncer",
    "Effect",
    "EmailSender",
    "EmailVerifier",
    "LeadEnricher",
    "Operation",
    "PortSpec",
    "ReplyFetcher",
    "SocialPoster",
    "WebhookDispatcher",
]


class Effect(enum.StrEnum):
    """What an operation does to the world; the chain's fallback rules depend on it."""

    READ = "read"  # no side effect: safe to repeat and to try elsewhere
    IDEMPOTENT_WRITE = "idempotent_write"  # repeating it leaves the same state (an upsert)
    WRITE = "write"  # each call is a new side effect (a send): never duplicate


@attrs.frozen
class Operation:
    """One method of a port."""

    name: str
    effect: Effect
    #: for a batch method: the single-item method it maps when a provider has no native batch
    batch_of: str | None = None


@attrs.frozen
class PortSpec:
    """A capability: its name, protocol, hook and operations."""

    capability: str
    protocol: type
    hook: str
    operations: tuple[Operation, ...]

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)

    @property
    def single_operations(self) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.batch_of is None)


@runtime_checkable
class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> SendReceipt | Awaitable[SendReceipt]: ...


@runtime_checkable
class ReplyFetcher(Protocol):
    def fetch_replies(self, cursor: str | None) -> ReplyBatch | Awaitable[ReplyBatch]: ...


@runtime_checkable
class CrmSyncer(Protocol):
    def upsert_contact(self, contact: Contact) -> CrmRecord | Awaitable[CrmRecord]: ...

    def log_engagement(self, engagement: Engagement) -> CrmRecord | Awaitable[CrmRecord]: ...


@runtime_checkable
class LeadEnricher(Protocol):
    def enrich(self, lead: Lead) -> Enrichment | Awaitable[Enrichment]: ...


@runtime_checkable
class EmailVerifier(Protocol):
    def verify(self, address: str) -> Verification | Awaitable[Verification]: ...


@runtime_checkable
class SocialPoster(Protocol):
    def post(self, post: SocialPost) -> PostReceipt | Awaitable[PostReceipt]: ...


@runtime_checkable
class WebhookDispatcher(Protocol):
    def dispatch(self, event: WebhookEvent) -> DeliveryReceipt | Awaitable[DeliveryReceipt]: ...


# Optional native batch methods a provider may add (the chain maps the single call otherwise):
#   LeadEnricher.enrich_many(leads: Sequence[Lead]) -> Sequence[Enrichment]
#   EmailVerifier.verify_many(addresses: Sequence[str]) -> Sequence[Verification]
#   CrmSyncer.upsert_contacts(contacts: Sequence[Contact]) -> Sequence[CrmRecord]
_ = Sequence

R, W, IW = Effect.READ, Effect.WRITE, Effect.IDEMPOTENT_WRITE

PORTS: dict[str, PortSpec] = {
    spec.capability: spec
    for spec in (
        PortSpec("email_sending", EmailSender, "aicmo_email_senders", (Operation("send", W),)),
        PortSpec(
            "reply_fetching",
            ReplyFetcher,
            "aicmo_reply_fetchers",
            (Operation("fetch_replies", R),),
        ),
        PortSpec(
            "crm_sync",
            CrmSyncer,
            "aicmo_crm_syncers",
            (
                Operation("upsert_contact", IW),
                Operation("log_engagement", W),
                Operation("upsert_contacts", IW, batch_of="upsert_contact"),
            ),
        ),
        PortSpec(
            "lead_enrichment",
            LeadEnricher,
            "aicmo_lead_enrichers",
            (Operation("enrich", R), Operation("enrich_many", R, batch_of="enrich")),
        ),
        PortSpec(
            "email_verification",
            EmailVerifier,
            "aicmo_email_verifiers",
            (Operation("verify", R), Operation("verify_many", R, batch_of="verify")),
        ),
        PortSpec("social_posting", SocialPoster, "aicmo_social_posters", (Operation("post", W),)),
        PortSpec(
            "webhook_dispatch",
            WebhookDispatcher,
            "aicmo_webhook_dispatchers",
            (Operation("dispatch", W),),
        ),
    )
}

#: hook name -> capability
HOOK_PORTS: dict[str, str] = {spec.hook: spec.capability for spec in PORTS.values()}
