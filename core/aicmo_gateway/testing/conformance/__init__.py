"""Conformance suites per port: behaviour every adapter of the port must show.

Each suite is a plain pytest class with fixtures the author overrides: ``provider`` (a
provider talking to a fake of its service), ``service`` (that fake, scriptable with
``fail_next(kind)``; see :class:`ScriptableService`) and ``secrets`` (the credentials the
provider holds). Provider methods may be sync or async; the suites run them in one event loop
per test, so they need no async test plugin. See docs/plugins/testing.md.
"""

from aicmo_gateway.testing.conformance._base import (
    EXPECTED_ERRORS,
    FAILURES,
    OfflineService,
    PortConformance,
    Run,
    ScriptableService,
    call,
)
from aicmo_gateway.testing.conformance.crm import CrmSyncConformance
from aicmo_gateway.testing.conformance.email import EmailSenderConformance
from aicmo_gateway.testing.conformance.leads import LeadEnrichmentConformance
from aicmo_gateway.testing.conformance.replies import ReplyFetcherConformance
from aicmo_gateway.testing.conformance.social import SocialPostingConformance
from aicmo_gateway.testing.conformance.verify import EmailVerificationConformance
from aicmo_gateway.testing.conformance.webhooks import WebhookDispatchConformance

__all__ = [
    "EXPECTED_ERRORS",
    "FAILURES",
    "CrmSyncConformance",
    "EmailSenderConformance",
    "EmailVerificationConformance",
    "LeadEnrichmentConformance",
    "OfflineService",
    "PortConformance",
    "ReplyFetcherConformance",
    "Run",
    "ScriptableService",
    "SocialPostingConformance",
    "WebhookDispatchConformance",
    "call",
]

#: the suite for each capability
SUITES = {
    suite.port: suite
    for suite in (
        EmailSenderConformance,
        ReplyFetcherConformance,
        CrmSyncConformance,
        LeadEnrichmentConformance,
        EmailVerificationConformance,
        SocialPostingConformance,
        WebhookDispatchConformance,
    )
}
