"""The plugin: the ``smtp`` and ``gmail`` email sender types.

Registered through ``[project.entry-points.aicmo_gateway] smtp =
"aicmo_gateway_smtp.plugin"``. Importing this module is cheap: the hook names
the settings classes by module, and the SMTP client is imported when a factory
builds a sender.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import Idempotency, ProviderType, Quota, hookimpl

__all__ = ["aicmo_email_senders", "gmail_sender", "smtp_sender"]


def smtp_sender(**settings: Any) -> Any:
    """Build an ``smtp`` sender from its config keys (see ``SmtpSettings``)."""
    from aicmo_gateway_smtp.sender import SmtpSender
    from aicmo_gateway_smtp.settings import SmtpSettings

    return SmtpSender(SmtpSettings(**settings))


def gmail_sender(**settings: Any) -> Any:
    """Build a ``gmail`` sender from its config keys (see ``GmailSettings``)."""
    from aicmo_gateway_smtp.sender import SmtpSender
    from aicmo_gateway_smtp.settings import GmailSettings

    return SmtpSender(GmailSettings(**settings).to_smtp())


@hookimpl
def aicmo_email_senders() -> list[ProviderType]:
    return [
        ProviderType(
            "smtp",
            smtp_sender,
            "sends through any SMTP server (presets: gmail, google-workspace, "
            "google-workspace-relay, microsoft365, relay) over pooled connections",
            settings="aicmo_gateway_smtp.settings:SmtpSettings",
            idempotency=Idempotency.MESSAGE_ID,
            has_check=True,
        ),
        ProviderType(
            "gmail",
            gmail_sender,
            "sends as a Gmail or Google Workspace mailbox with an app password",
            settings="aicmo_gateway_smtp.settings:GmailSettings",
            idempotency=Idempotency.MESSAGE_ID,
            quotas=[Quota(limit=500, period="day")],
            has_check=True,
        ),
    ]
