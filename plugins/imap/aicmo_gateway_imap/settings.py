"""``ImapSettings``: the config keys of the ``imap`` provider type, checked together.

Cheap to import (no IMAP library): discovery reads these fields to check a
configuration before any provider is built. Every refused value or combination
raises ``ValueError`` naming the key and the fix; the password never appears in
a message or a repr, nor does the username in a repr.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs

from aicmo_gateway import Secret

__all__ = ["DEFAULT_PORTS", "PRESETS", "SECURITY_MODES", "ImapSettings"]

#: well-known providers: ``preset = "gmail"`` stands for their host and port
PRESETS: dict[str, tuple[str, int]] = {
    "gmail": ("imap.gmail.com", 993),
    "microsoft365": ("outlook.office365.com", 993),
}
#: ``tls``: TLS from the first byte (port 993); ``starttls``: upgrade a plain connection
#: (port 143); ``none``: no encryption at all (only for a server on this machine)
SECURITY_MODES = ("tls", "starttls", "none")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}
START_MODES = ("all", "new")
#: RFC 2177: a server may log an idle client off after 30 minutes
IDLE_LIMIT_SECONDS = 30 * 60
_LINE_BREAKS = frozenset("\r\n\x00")


def _secret(value: str | Secret) -> Secret:
    if not isinstance(value, str | Secret):
        raise TypeError(
            f"imap settings: password: expected a string, got {type(value).__name__}; "
            'write password = "${IMAP_PASSWORD}" and set that variable'
        )
    return Secret(value)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def _problem(key: str, message: str) -> ValueError:
    return ValueError(f"imap settings: {key}: {message}")


@attrs.frozen(kw_only=True)
class ImapSettings:
    """The settings of one ``imap`` provider instance (one account, one mailbox).

    ``host`` and ``port`` come from ``preset`` when it is given; ``port``
    otherwise defaults by ``security`` (993 for ``tls``, 143 for the others).
    After construction ``host`` and ``port`` always hold the values in use.
    """

    #: the login: kept out of reprs like the password (it often comes from ``${VAR}``)
    username: str = attrs.field(repr=False)
    password: Secret = attrs.field(converter=_secret)
    preset: str | None = None
    host: str | None = None
    port: int | None = None
    security: str = "tls"
    mailbox: str = "INBOX"
    ca_file: Path | None = attrs.field(default=None, converter=_path)
    verify_certificates: bool = True
    #: seconds to wait for the server to connect or answer one command
    timeout: float = 30.0
    #: at most this many replies per fetch; ``has_more`` says when more are waiting
    batch_size: int = 100
    #: wait for new mail with IMAP IDLE (push) in ``wait_for_replies``/``watch``
    idle: bool = False
    #: end and re-issue IDLE after this many seconds (servers drop it after 30 minutes)
    idle_rearm_seconds: float = 29 * 60
    #: seconds between checks when waiting without IDLE (``idle = false`` or no server support)
    poll_interval: float = 60.0
    #: what a fetch without a cursor returns: ``"all"`` the messages already in the mailbox,
    #: ``"new"`` none (only a cursor at the current end, so later fetches get what arrives)
    start: str = "all"

    def __attrs_post_init__(self) -> None:
        _check_account(self)
        host, port = _endpoint(self)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "port", port)
        if self.mailbox.upper() == "INBOX":  # RFC 3501: INBOX is case-insensitive
            object.__setattr__(self, "mailbox", "INBOX")
        _check_tls(self)
        _check_numbers(self)
        if self.start not in START_MODES:
            raise _problem(
                "start",
                f"{self.start!r} is not a start mode; use 'all' (the mailbox's messages first) "
                "or 'new' (only what arrives from now on)",
            )

    @property
    def address(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"


def _text(value: Any, key: str, example: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"imap settings: {key}: expected a string, got {type(value).__name__}")
    if not value.strip():
        raise _problem(key, f"is empty; set it, e.g. {key} = {example!r}")
    if any(ch in _LINE_BREAKS for ch in value):
        raise _problem(key, f"{value!r} contains a line break or NUL; remove it")
    return value


def _check_account(settings: ImapSettings) -> None:
    _text(settings.username, "username", "sales@example.com")
    _text(settings.mailbox, "mailbox", "INBOX")
    if not settings.password:
        raise _problem(
            "password", 'is empty; write password = "${IMAP_PASSWORD}" and set that variable'
        )


def _endpoint(settings: ImapSettings) -> tuple[str, int]:
    if settings.security not in SECURITY_MODES:
        raise _problem(
            "security",
            f"{settings.security!r} is not a security mode; use one of "
            + ", ".join(repr(mode) for mode in SECURITY_MODES),
        )
    host, port = settings.host, settings.port
    if settings.preset is not None:
        if settings.preset not in PRESETS:
            raise _problem(
                "preset",
                f"{settings.preset!r} is not a preset; use one of "
                + ", ".join(repr(name) for name in PRESETS)
                + ", or leave preset out and set host",
            )
        preset_host, preset_port = PRESETS[settings.preset]
        if host is not None and host != preset_host:
            raise _problem(
                "host",
                f"{host!r} contradicts preset {settings.preset!r} ({preset_host}); "
                "remove host, or remove preset to use your own server",
            )
        host = preset_host
        port = preset_port if port is None else port
    if host is None:
        raise _problem(
            "host", "is missing; set host = \"imap.example.com\" or a preset such as 'gmail'"
        )
    host = _text(host, "host", "imap.example.com")
    if any(ch.isspace() for ch in host) or "/" in host:
        raise _problem(
            "host", f"{host!r} is not a host name; write only the name, e.g. imap.example.com"
        )
    if port is None:
        port = DEFAULT_PORTS[settings.security]
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise _problem("port", f"{port!r} is not a TCP port; use a whole number from 1 to 65535")
    return host.strip(), port


def _check_tls(settings: ImapSettings) -> None:
    if settings.security == "none":
        if settings.ca_file is not None:
            raise _problem(
                "ca_file",
                'is set but security = "none" uses no TLS; remove ca_file or use '
                'security = "tls" or "starttls"',
            )
        if settings.verify_certificates is not True:
            raise _problem(
                "verify_certificates",
                'is false but security = "none" uses no TLS; remove verify_certificates',
            )
        return
    if settings.ca_file is not None:
        if settings.verify_certificates is not True:
            raise _problem(
                "verify_certificates",
                "is false but ca_file is set; certificates are verified against ca_file, "
                "so remove one of the two",
            )
        if not settings.ca_file.is_file():
            raise _problem(
                "ca_file", f"{str(settings.ca_file)!r} is not a file; give the path of a PEM file"
            )


def _number(
    settings: ImapSettings, key: str, *, minimum: float, below: float | None = None
) -> None:
    value: Any = getattr(settings, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _problem(key, f"{value!r} is not a number of seconds")
    if value <= minimum or (below is not None and value >= below):
        upper = f" and below {below:g}" if below is not None else ""
        raise _problem(key, f"{value!r} must be greater than {minimum:g}{upper}")


def _check_numbers(settings: ImapSettings) -> None:
    _number(settings, "timeout", minimum=0)
    _number(settings, "poll_interval", minimum=0)
    _number(settings, "idle_rearm_seconds", minimum=0, below=IDLE_LIMIT_SECONDS)
    size: Any = settings.batch_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _problem("batch_size", f"{size!r} must be a whole number of at least 1")
    for key in ("idle", "verify_certificates"):
        if not isinstance(getattr(settings, key), bool):
            raise _problem(key, "must be true or false")
