"""The ports: one protocol per capability and the frozen records they exchange.

Plugins and applications import records from here::

    from aicmo_gateway.ports import EmailMessage, SendReceipt

Each name is imported from its module on first use, so ``from aicmo_gateway.ports import
PORTS`` does not build every record class.
"""

from aicmo_gateway.lazy import attach

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from aicmo_gateway.ports.bounces import (
        Bounce,
        Complaint,
        ReplyKind,
        SuppressionHint,
        suppression_hints,
    )
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

__getattr__, __dir__ = attach(
    __name__,
    {
        "aicmo_gateway.ports.bounces": (
            "Bounce",
            "Complaint",
            "ReplyKind",
            "SuppressionHint",
            "suppression_hints",
        ),
        "aicmo_gateway.ports.crm": (
            "Contact",
            "CrmRecord",
            "Engagement",
        ),
        "aicmo_gateway.ports.email": (
            "Attachment",
            "EmailMessage",
            "Reply",
            "ReplyBatch",
            "SendReceipt",
        ),
        "aicmo_gateway.ports.leads": (
            "Enrichment",
            "Lead",
            "Verdict",
            "Verification",
        ),
        "aicmo_gateway.ports.protocols": (
            "HOOK_PORTS",
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
        ),
        "aicmo_gateway.ports.social": (
            "Media",
            "PostReceipt",
            "SocialPost",
        ),
        "aicmo_gateway.ports.webhooks": (
            "DeliveryReceipt",
            "WebhookEvent",
        ),
    },
)

__all__ = [
    "HOOK_PORTS",
    "PORTS",
    "Attachment",
    "Bounce",
    "Complaint",
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
    "ReplyKind",
    "SendReceipt",
    "SocialPost",
    "SocialPoster",
    "SuppressionHint",
    "Verdict",
    "Verification",
    "WebhookDispatcher",
    "WebhookEvent",
    "suppression_hints",
]
