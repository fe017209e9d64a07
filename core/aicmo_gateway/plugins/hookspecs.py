"""The plugin contract: every hook a plugin may implement.

A plugin module holds ``@hookimpl`` functions named after these specs. Port
hooks take no arguments and return ``ProviderType`` records (a list, any
iterable, a generator, or a single record); the port is implied by the hook.
Observer hooks are called after the fact; an observer that raises is logged
and ignored, it never breaks a call.

Each hook has a heading in ``docs/plugins/hooks.md``; a test fails when one
is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from aicmo_gateway.outcome import Attempt, CallRecord
    from aicmo_gateway.plugins.provider_type import ProviderType

PROJECT = "aicmo_gateway"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# -- port hooks --------------------------------------------------------------


@hookspec
def aicmo_email_senders() -> Iterable[ProviderType] | ProviderType | None:
    """Provider types for the ``email_sending`` port.

    Providers implement ``send(message: EmailMessage) -> SendReceipt``.
    """


@hookspec
def aicmo_reply_fetchers() -> Iterable[ProviderType] | ProviderType | None:
    """Provider types for the ``reply_fetching`` port.

    Providers implement ``fetch_replies(cursor: str | None) -> ReplyBatch``: the
    replies newer than the cursor, oldest first, and the cursor to pass next.
    """


@hookspec
def aicmo_crm_syncers() -> Iterable[ProviderType] | ProviderType | None:
    """Provider types for the ``crm_sync`` port.

    Providers implement ``upsert_contact(contact: Contact) -> CrmRecord`` and
    ``log_engagement(engagement: Engagement) -> CrmRecord``; optionally
    ``upsert_contacts(contacts) -> Sequence[CrmRecord]`` for a native batch.
    """


@hookspec
def aicmo_lead_enrichers() -> Iterable[ProviderType] | ProviderType | None:
    """Provider types for the ``lead_enrichment`` port.

    Providers implement ``enrich(lead: Lead) -> Enrichment``; optionally
    ``enrich_many(leads) -> Sequence[Enrichment]``.
    """


@hookspec
def aicmo_email_verifiers() -> Iterable[ProviderType] | ProviderType | None:
    """Provider types for the ``email_verification`` port.

    Providers implement ``verify(address: str) -> Verification``; optionally
    ``verify_many(addresses) -> Sequence[Verification]``.
    """


@hookspec
def aicmo_social_posters() -> Iterable[ProviderType] | ProviderType | None:
    """Provider types for the ``social_posting`` port.

    Providers implement ``post(post: SocialPost) -> PostReceipt``.
    """


@hookspec
def aicmo_webhook_dispatchers() -> Iterable[ProviderType] | ProviderType | None:
    """Provider types for the ``webhook_dispatch`` port.

    Providers implement ``dispatch(event: WebhookEvent) -> DeliveryReceipt``.
    """


# -- observer hooks ----------------------------------------------------------


@hookspec
def aicmo_attempt_finished(capability: str, operation: str, attempt: Attempt) -> None:
    """Called after each attempt on a provider, successful or not.

    ``attempt`` carries the provider instance name, timing, the error class
    and the action the chain took. Use it for per-provider metrics.
    """


@hookspec
def aicmo_call_finished(call: CallRecord) -> None:
    """Called once after every gateway call, with its outcome and all attempts.

    ``call.outcome`` is the :class:`~aicmo_gateway.Outcome` the caller received.
    Use it to export metrics or audit records. It holds no secrets.
    """
