"""The core's own plugin: the built-in provider types, one hook per port.

Registered through the core's entry point
(``[project.entry-points.aicmo_gateway] builtin = "aicmo_gateway.builtin.plugin"``),
exactly like a third-party plugin. Importing this module is cheap: the
providers' modules are imported when a hook is called.

``noop`` types have the lowest priority, so they come last whenever the
configuration does not decide the order.
"""

from __future__ import annotations

from aicmo_gateway.plugins.hookspecs import hookimpl
from aicmo_gateway.plugins.provider_type import Idempotency, ProviderType

NOOP_PRIORITY = -100


@hookimpl
def aicmo_email_senders() -> list[ProviderType]:
    from aicmo_gateway.builtin.maildir import MaildirSender
    from aicmo_gateway.builtin.noop import NoopEmailSender

    return [
        ProviderType(
            "maildir",
            MaildirSender,
            "writes each message as an RFC 5322 file into a local Maildir",
            idempotency=Idempotency.MESSAGE_ID,
        ),
        ProviderType(
            "noop",
            NoopEmailSender,
            "sends nothing (performed=False), for tests and dry runs",
            priority=NOOP_PRIORITY,
            simulates=True,
        ),
    ]


@hookimpl
def aicmo_reply_fetchers() -> list[ProviderType]:
    from aicmo_gateway.builtin.maildir import MaildirReplyFetcher
    from aicmo_gateway.builtin.noop import NoopReplyFetcher

    return [
        ProviderType(
            "maildir",
            MaildirReplyFetcher,
            "reads new messages from a local Maildir without moving or flagging them",
        ),
        ProviderType(
            "noop",
            NoopReplyFetcher,
            "finds no replies; the cursor stays unchanged",
            priority=NOOP_PRIORITY,
            simulates=True,
        ),
    ]


@hookimpl
def aicmo_crm_syncers() -> list[ProviderType]:
    from aicmo_gateway.builtin.noop import NoopCrmSyncer
    from aicmo_gateway.builtin.sqlite_crm import SqliteCrm

    return [
        ProviderType(
            "sqlite",
            SqliteCrm,
            "a small CRM in one SQLite file: contacts by email and their engagements",
            batch_size=500,
        ),
        ProviderType(
            "noop",
            NoopCrmSyncer,
            "stores nothing (performed=False), for tests and dry runs",
            priority=NOOP_PRIORITY,
            simulates=True,
        ),
    ]


@hookimpl
def aicmo_lead_enrichers() -> list[ProviderType]:
    from aicmo_gateway.builtin.noop import NoopLeadEnricher

    return [
        ProviderType(
            "noop",
            NoopLeadEnricher,
            "finds nothing (found=False), for tests and dry runs",
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]


@hookimpl
def aicmo_email_verifiers() -> list[ProviderType]:
    from aicmo_gateway.builtin.noop import NoopEmailVerifier

    return [
        ProviderType(
            "noop",
            NoopEmailVerifier,
            "checks nothing: every verdict is unknown",
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]


@hookimpl
def aicmo_social_posters() -> list[ProviderType]:
    from aicmo_gateway.builtin.noop import NoopSocialPoster

    return [
        ProviderType(
            "noop",
            NoopSocialPoster,
            "publishes nothing (performed=False), for tests and dry runs",
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]


@hookimpl
def aicmo_webhook_dispatchers() -> list[ProviderType]:
    from aicmo_gateway.builtin.noop import NoopWebhookDispatcher

    return [
        ProviderType(
            "noop",
            NoopWebhookDispatcher,
            "delivers nothing (performed=False), for tests and dry runs",
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]
