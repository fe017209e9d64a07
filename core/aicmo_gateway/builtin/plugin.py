"""The core's own plugin: the built-in provider types, one hook per port.

Registered through the core's entry point
(``[project.entry-points.aicmo_gateway] builtin = "aicmo_gateway.builtin.plugin"``),
exactly like a third-party plugin. Importing this module, and calling its hooks, is
cheap: the providers' modules are imported when a provider is built or its settings
are checked.

``noop`` types have the lowest priority, so they come last whenever the
configuration does not decide the order.
"""

from __future__ import annotations

import importlib
from typing import Any

from aicmo_gateway.plugins.hookspecs import hookimpl
from aicmo_gateway.plugins.provider_type import Idempotency, ProviderType

NOOP_PRIORITY = -100


def _deferred(target: str) -> dict[str, Any]:
    """A built-in provider class named ``"module:Class"`` as a type's factory and settings,
    imported when a provider is built or its settings are checked, not at discovery.

    Every built-in provider class is an attrs class (its fields are its settings) with a
    ``check()``.
    """
    module, _, name = target.partition(":")

    def factory(**settings: Any) -> Any:
        return getattr(importlib.import_module(module), name)(**settings)

    factory.__qualname__ = factory.__name__ = name
    return {"factory": factory, "settings": target, "has_check": True}


@hookimpl
def aicmo_email_senders() -> list[ProviderType]:
    return [
        ProviderType(
            "maildir",
            summary="writes each message as an RFC 5322 file into a local Maildir",
            **_deferred("aicmo_gateway.builtin.maildir:MaildirSender"),
            idempotency=Idempotency.MESSAGE_ID,
        ),
        ProviderType(
            "noop",
            summary="sends nothing (performed=False), for tests and dry runs",
            **_deferred("aicmo_gateway.builtin.noop:NoopEmailSender"),
            priority=NOOP_PRIORITY,
            simulates=True,
        ),
    ]


@hookimpl
def aicmo_reply_fetchers() -> list[ProviderType]:
    return [
        ProviderType(
            "maildir",
            summary="reads new messages from a local Maildir without moving or flagging them",
            **_deferred("aicmo_gateway.builtin.maildir_fetcher:MaildirReplyFetcher"),
        ),
        ProviderType(
            "noop",
            summary="finds no replies; the cursor stays unchanged",
            **_deferred("aicmo_gateway.builtin.noop:NoopReplyFetcher"),
            priority=NOOP_PRIORITY,
            simulates=True,
        ),
    ]


@hookimpl
def aicmo_crm_syncers() -> list[ProviderType]:
    return [
        ProviderType(
            "sqlite",
            summary="a small CRM in one SQLite file: contacts by email and their engagements",
            **_deferred("aicmo_gateway.builtin.sqlite_crm:SqliteCrm"),
            batch_size=500,
        ),
        ProviderType(
            "noop",
            summary="stores nothing (performed=False), for tests and dry runs",
            **_deferred("aicmo_gateway.builtin.noop:NoopCrmSyncer"),
            priority=NOOP_PRIORITY,
            simulates=True,
        ),
    ]


@hookimpl
def aicmo_lead_enrichers() -> list[ProviderType]:
    return [
        ProviderType(
            "noop",
            summary="finds nothing (found=False), for tests and dry runs",
            **_deferred("aicmo_gateway.builtin.noop:NoopLeadEnricher"),
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]


@hookimpl
def aicmo_email_verifiers() -> list[ProviderType]:
    return [
        ProviderType(
            "noop",
            summary="checks nothing: every verdict is unknown",
            **_deferred("aicmo_gateway.builtin.noop:NoopEmailVerifier"),
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]


@hookimpl
def aicmo_social_posters() -> list[ProviderType]:
    return [
        ProviderType(
            "noop",
            summary="publishes nothing (performed=False), for tests and dry runs",
            **_deferred("aicmo_gateway.builtin.noop:NoopSocialPoster"),
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]


@hookimpl
def aicmo_webhook_dispatchers() -> list[ProviderType]:
    return [
        ProviderType(
            "noop",
            summary="delivers nothing (performed=False), for tests and dry runs",
            **_deferred("aicmo_gateway.builtin.noop:NoopWebhookDispatcher"),
            priority=NOOP_PRIORITY,
            simulates=True,
        )
    ]
