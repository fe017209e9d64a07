"""The ports: one protocol per capability and the frozen records they exchange.

Plugins and applications import records from here::

    from aicmo_gateway.ports import EmailMessage, SendReceipt
"""

from aicmo_gateway.ports.crm import Contact, CrmRecord, Engagement
from aicmo_gateway.ports.email import Attachment, EmailMessage, Reply, ReplyBatch, SendReceipt
from aicmo_gateway.ports.leads import Enrichment, Lead, Verdict, Verification
from aicmo_gateway.ports.protocols import (
    HOOK_PORTS,
    PORTS,
    CrmSyncer,
    Effect,
    EmailSender,
    EmailVerifier,
    LeadEnricher,
    Operation,
    PortSpec,
    ReplyFetcher,
    SocialPoster,
    WebhookDispatcher,
)
from aicmo_gateway.ports.social import Media, PostReceipt, SocialPost
from aicmo_gateway.ports.webhooks import DeliveryReceipt, WebhookEvent

__all__ = [
    "HOOK_PORTS",
    "PORTS",
    "Attachment",
    "Contact",
    "CrmRecord",
    "CrmSyncer",
    "DeliveryReceipt",
    "Effect",
    "EmailMessage",
    "EmailSender",
    "EmailVerifier",
    "Engagement",
    "Enrichment",
    "Lead",
    "LeadEnricher",
    "Media",
    "Operation",
    "PortSpec",
    "PostReceipt",
    "Reply",
    "ReplyBatch",
    "ReplyFetcher",
    "SendReceipt",
    "SocialPost",
    "SocialPoster",
    "Verdict",
    "Verification",
    "WebhookDispatcher",
    "WebhookEvent",
]
