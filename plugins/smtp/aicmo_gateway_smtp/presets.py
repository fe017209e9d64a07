"""Known mail services: the server, port, security and sending limits each one implies.

A preset fills the settings a user would otherwise look up, so a Gmail
configuration needs only ``preset``, ``username`` and ``password``. Explicit
settings always win over the preset's.

This module imports nothing but ``attrs`` and the core's public records.
"""

from __future__ import annotations

import attrs

from aicmo_gateway import Quota

__all__ = ["DEFAULT_PORTS", "PRESETS", "SECURITY_MODES", "Preset"]

#: how the connection is protected
SECURITY_MODES: dict[str, str] = {
    "starttls": "plain connect, then STARTTLS; fail if the server does not offer it",
    "tls": "TLS from the first byte (implicit TLS, port 465 style)",
    "opportunistic": "STARTTLS when the server offers it, plain otherwise",
    "none": "no TLS at all (local relays and tests only)",
}

#: the usual port for each security mode when neither the settings nor a preset name one
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "opportunistic": 25, "none": 25}


@attrs.frozen
class Preset:
    """One mail service's submission endpoint and published sending limits."""

    name: str
    #: ``None`` when the user must name the server (a generic relay)
    host: str | None
    port: int
    security: str
    #: the service's published limits (it counts recipients; the gateway counts messages)
    quotas: tuple[Quota, ...] = ()
    #: the service refuses unauthenticated submission
    needs_login: bool = True
    summary: str = ""


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "gmail",
            "smtp.gmail.com",
            587,
            "starttls",
            (Quota(limit=500, period="day"),),
            summary="consumer Gmail (@gmail.com) with an app password",
        ),
        Preset(
            "google-workspace",
            "smtp.gmail.com",
            587,
            "starttls",
            (Quota(limit=2000, period="day"),),
            summary="a Google Workspace mailbox with an app password",
        ),
        Preset(
            "google-workspace-relay",
            "smtp-relay.gmail.com",
            587,
            "starttls",
            (Quota(limit=10000, period="day"),),
            needs_login=False,
            summary="Google Workspace SMTP relay service (by login or allow-listed IP)",
        ),
        Preset(
            "microsoft365",
            "smtp.office365.com",
            587,
            "starttls",
            (Quota(limit=10000, period="day"), Quota(limit=30, period="minute")),
            summary="Microsoft 365 / Exchange Online client submission (SMTP AUTH)",
        ),
        Preset(
            "relay",
            None,
            25,
            "opportunistic",
            needs_login=False,
            summary="any relay on port 25; STARTTLS when offered; set host",
        ),
    )
}
