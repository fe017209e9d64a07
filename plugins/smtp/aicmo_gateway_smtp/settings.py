"""The settings of the ``smtp`` and ``gmail`` provider types: their config keys and checks.

Each field is a config key. Invalid values and combinations raise ``ValueError``
naming the key and the fix; the core reports them as configuration errors.
Passwords are :class:`~aicmo_gateway.Secret` values, so no repr, log line or
error shows them.

This module is cheap to import (no SMTP client): the plugin's hooks load it.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from email.utils import parseaddr
from typing import Any

import attrs

from aicmo_gateway import Quota, Secret
from aicmo_gateway_smtp.presets import DEFAULT_PORTS, PRESETS, SECURITY_MODES, Preset

__all__ = ["GmailSettings", "SmtpSettings"]


def _secret(value: str | Secret | None) -> Secret | None:
    return None if value is None else Secret(value)


def _one_of(name: str, value: str, choices: list[str]) -> None:
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{name}: {value!r} is not known{hint}; use one of: {', '.join(choices)}")


def _check_preset(_: Any, __: Any, value: str | None) -> None:
    if value is not None and value not in PRESETS:
        _one_of("preset", value, list(PRESETS))


def _check_security(_: Any, __: Any, value: str | None) -> None:
    if value is not None and value not in SECURITY_MODES:
        _one_of("security", value, list(SECURITY_MODES))


def _check_port(_: Any, __: Any, value: int | None) -> None:
    if value is not None and not 0 < value < 65536:
        raise ValueError(f"port: {value!r} is not a TCP port; use a number from 1 to 65535")


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name}: {value!r} must be a number of seconds above 0")


def _at_least(minimum: int) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
        if value is not None and not value >= minimum:
            raise ValueError(f"{attribute.name}: {value!r} must be at least {minimum}")

    return check


def _check_ca_file(_: Any, __: Any, value: str | None) -> None:
    if value is not None and not os.path.isfile(value):
        raise ValueError(
            f"ca_file: {value!r} is not a file; point it at a PEM bundle of CA certificates "
            "(or leave it out to use the system's)"
        )


def _check_address(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and "@" not in parseaddr(value)[1]:
        raise ValueError(
            f"{attribute.name}: {value!r} is not an email address; write it as "
            "'sales@example.com' or 'Sales <sales@example.com>'"
        )


def _check_hostname(_: Any, __: Any, value: str | None) -> None:
    if value is not None and (
        not value.strip() or any(c.isspace() or not c.isprintable() for c in value.strip())
    ):
        raise ValueError(
            f"local_hostname: {value!r} is not a host name; use one word such as "
            "'mail.example.com', or leave it out"
        )


_DNS_NAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$")


def _check_dns_name(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _DNS_NAME.match(value)):
        raise ValueError(
            f"{attribute.name}: {value!r} is not a DNS name; write it as ASCII labels "
            "separated by dots, e.g. 'example.com' (a selector: 'google' or 's1')"
        )


@attrs.frozen
class SmtpSettings:
    """How to reach and log in to one SMTP server (the ``smtp`` provider type's keys).

    Either ``preset`` or ``host`` is required; a preset fills ``host``, ``port``,
    ``security`` and the sending quotas, and explicit keys override it.
    """

    #: a known service: gmail, google-workspace, google-workspace-relay, microsoft365, relay
    preset: str | None = attrs.field(default=None, validator=_check_preset)
    host: str | None = None
    #: default: the preset's, else 587 (starttls), 465 (tls) or 25 (opportunistic, none)
    port: int | None = attrs.field(default=None, validator=_check_port)
    #: starttls, tls, opportunistic or none; default: the preset's, else starttls
    security: str | None = attrs.field(default=None, validator=_check_security)
    #: not in ``repr()``: it may come from the environment, and some treat it as a secret
    username: str | None = attrs.field(default=None, repr=False)
    password: Secret | None = attrs.field(default=None, converter=_secret)
    #: a PEM bundle of CA certificates to trust instead of the system's
    ca_file: str | None = attrs.field(default=None, validator=_check_ca_file)
    verify_certificates: bool = True
    #: seconds allowed for each network step (connect, each command, the final reply)
    timeout: float = attrs.field(default=30.0, validator=_positive)
    #: connections kept open and reused; at most this many sends run at once
    pool_size: int = attrs.field(default=2, validator=_at_least(1))
    #: seconds an unused connection is kept before it is closed; 0 closes it after each send
    max_idle: float = attrs.field(default=60.0, validator=_at_least(0))
    #: the From address for messages without a sender (default: username, if an address)
    default_sender: str | None = attrs.field(default=None, validator=_check_address)
    #: the name sent in EHLO (default: this machine's fully qualified name)
    local_hostname: str | None = attrs.field(default=None, validator=_check_hostname)
    #: messages per day this account may send, overriding the preset's quota
    daily_quota: int | None = attrs.field(default=None, validator=_at_least(0))
    #: the domain whose SPF, DMARC and DKIM ``doctor --live`` checks
    #: (default: default_sender's, else username's)
    sender_domain: str | None = attrs.field(default=None, validator=_check_dns_name)
    #: the DKIM selector ``doctor --live`` checks at <selector>._domainkey.<domain>
    #: (default: the preset's: google for Google Workspace, selector1 for Microsoft 365)
    dkim_selector: str | None = attrs.field(default=None, validator=_check_dns_name)

    def __attrs_post_init__(self) -> None:
        if self.host is not None and not self.host.strip():
            raise ValueError("host: is empty; name the SMTP server, e.g. 'smtp.example.com'")
        if self.host is None and self.preset_record.host is None:
            if self.preset is None:
                raise ValueError(
                    "host: no SMTP server given; set host = 'smtp.example.com' or a preset "
                    f"({', '.join(PRESETS)})"
                )
            raise ValueError(f"host: the {self.preset!r} preset needs host = 'your relay'")
        if self.password is not None and not self.username:
            raise ValueError("username: a password is set but no username; add username = ...")
        if self.username and self.password is None:
            raise ValueError(
                f"password: username {self.username!r} is set but no password; add "
                "password = '${ENV_VAR}'"
            )
        if self.preset_record.needs_login and not self.username:
            raise ValueError(
                f"username: the {self.preset!r} preset needs username (the mailbox address) "
                "and password (an app password), e.g. password = '${SMTP_PASSWORD}'"
            )

    @property
    def preset_record(self) -> Preset:
        """The preset in effect (an empty generic one when none is named)."""
        if self.preset is None:
            return Preset("custom", None, 0, "starttls", needs_login=False)
        return PRESETS[self.preset]

    @property
    def server(self) -> tuple[str, int, str]:
        """``(host, port, security)`` after applying the preset and the defaults."""
        preset = self.preset_record
        security = self.security or preset.security
        host = self.host or preset.host
        assert host is not None  # checked in __attrs_post_init__
        if self.port is not None:
            port = self.port
        elif self.security is None and preset.port:
            port = preset.port
        else:
            port = DEFAULT_PORTS[security]
        return host.strip(), port, security

    @property
    def quotas(self) -> tuple[Quota, ...]:
        """The sending quotas: the preset's, with ``daily_quota`` replacing its daily one."""
        quotas = self.preset_record.quotas
        if self.daily_quota is None:
            return quotas
        others = (q for q in quotas if q.period != "day")
        return (Quota(limit=self.daily_quota, period="day"), *others)

    @property
    def sender_address(self) -> str | None:
        """The From for messages without a sender: ``default_sender``, else the username."""
        if self.default_sender:
            return self.default_sender
        if self.username and "@" in parseaddr(self.username)[1]:
            return self.username
        return None


@attrs.frozen
class GmailSettings:
    """The ``gmail`` provider type's keys: Gmail or Google Workspace with an app password."""

    username: str = attrs.field(validator=_check_address, repr=False)
    password: Secret = attrs.field(converter=Secret)
    #: a Google Workspace account (2000 messages a day instead of 500)
    workspace: bool = False
    timeout: float = attrs.field(default=30.0, validator=_positive)
    pool_size: int = attrs.field(default=2, validator=_at_least(1))
    max_idle: float = attrs.field(default=60.0, validator=_at_least(0))
    default_sender: str | None = attrs.field(default=None, validator=_check_address)
    local_hostname: str | None = attrs.field(default=None, validator=_check_hostname)
    daily_quota: int | None = attrs.field(default=None, validator=_at_least(0))
    #: as for ``smtp``: what ``doctor --live`` checks in DNS
    sender_domain: str | None = attrs.field(default=None, validator=_check_dns_name)
    dkim_selector: str | None = attrs.field(default=None, validator=_check_dns_name)

    def to_smtp(self) -> SmtpSettings:
        """The equivalent ``smtp`` settings."""
        values = attrs.asdict(self, recurse=False)
        workspace = values.pop("workspace")
        return SmtpSettings(preset="google-workspace" if workspace else "gmail", **values)
