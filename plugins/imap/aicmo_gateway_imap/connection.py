"""One IMAP connection: connect, secure, log in, EXAMINE the mailbox, and error translation.

This module owns every use of the IMAP library (IMAPClient, blocking, run in
the gateway's worker threads) and turns its failures into the gateway's error
taxonomy:

* connection refused, DNS, TLS and timeouts -> ``Unavailable`` (reads are safe
  to retry with another provider);
* a refused LOGIN, a missing mailbox, a server without STARTTLS or with LOGIN
  disabled -> ``AuthError`` (retrying will not help until the config changes);
  a LOGIN refused with ``[UNAVAILABLE]`` (RFC 5530: the server cannot log anyone in
  now) or cut off by a lost connection -> ``Unavailable``.

The password is given to the library and nowhere else; it is scrubbed from any
text a server or the library sends back.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import imapclient  # type: ignore[import-untyped]
from imapclient.exceptions import CapabilityError, LoginError  # type: ignore[import-untyped]
from loguru import logger

from aicmo_gateway.errors import AuthError, ProviderError, Unavailable
from aicmo_gateway_imap.cursor import Cursor
from aicmo_gateway_imap.settings import ImapSettings

__all__ = ["Fetched", "ImapSession", "open_session", "translate_errors"]

#: what one message's FETCH returns: (raw RFC 5322 bytes or None, INTERNALDATE or None)
Fetched = tuple[bytes | None, datetime | None]
_log = logger.bind(provider_type="imap")


def ssl_context(settings: ImapSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file is not None else None
    )
    if not settings.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _text(value: object, settings: ImapSettings) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = re.sub(r"""^b(['"])(.*)\1$""", r"\2", text)  # a server's bytes, shown as text
    secret = settings.password.reveal()
    return text.replace(secret, "********") if secret else text


_LOGIN_HINTS = {
    "gmail": "; for Gmail use an app password (myaccount.google.com/apppasswords, with "
    "2-Step Verification on), not the account password",
    "microsoft365": "; Microsoft 365 accepts a password only where the tenant still allows "
    "basic authentication for IMAP (OAuth2 is not supported by this provider yet)",
}


def _translated(
    exc: OSError | EOFError | imaplib.IMAP4.error, settings: ImapSettings, doing: str
) -> ProviderError:
    where = f"imap {settings.address}"
    said = _text(exc, settings)
    if isinstance(exc, LoginError) and isinstance(exc.__context__, imaplib.IMAP4.abort):
        # IMAPClient reports a connection lost during LOGIN as a refused login
        return Unavailable(f"{where}: the connection was lost while logging in ({said})")
    if isinstance(exc, LoginError) and "[UNAVAILABLE]" in said.upper():
        # RFC 5530: the server cannot authenticate anyone now, whatever the credentials
        return Unavailable(f"{where}: the server cannot log anyone in now ({said}); try later")
    if isinstance(exc, LoginError):
        hint = _LOGIN_HINTS.get(settings.preset or "", "")
        return AuthError(
            f"{where}: the server refused the login of {settings.username!r} ({said}); "
            f"check username and password{hint}"
        )
    if isinstance(exc, socket.gaierror):
        return Unavailable(
            f"{where}: the host name cannot be resolved ({said}); check host and the network"
        )
    if isinstance(exc, ConnectionRefusedError):
        return Unavailable(
            f"{where}: the connection was refused; is an IMAP server listening on port "
            f"{settings.port}?"
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Unavailable(
            f"{where}: the server's TLS certificate could not be verified ({said}); "
            "set ca_file to the CA that signed it, or fix the server's certificate"
        )
    if isinstance(exc, ssl.SSLError):
        mode = settings.security
        return Unavailable(
            f"{where}: the TLS handshake failed ({said}); check that the port speaks "
            f"{'TLS from the start (993)' if mode == 'tls' else 'STARTTLS (143)'}"
        )
    if isinstance(exc, TimeoutError):
        return Unavailable(
            f"{where}: no answer within {settings.timeout:g}s while {doing}; "
            "the server is slow or unreachable (raise timeout if it is just slow)"
        )
    if isinstance(exc, imaplib.IMAP4.abort | OSError | EOFError):
        return Unavailable(f"{where}: the connection failed while {doing} ({said})")
    if isinstance(exc, CapabilityError):
        return AuthError(f"{where}: {said} while {doing}; adjust security or idle")
    return Unavailable(f"{where}: the server refused a command while {doing} ({said})")


@contextlib.contextmanager
def translate_errors(settings: ImapSettings, doing: str) -> Iterator[None]:
    """Re-raise the IMAP library's and the network's errors as gateway errors."""
    try:
        yield
    except (OSError, EOFError, imaplib.IMAP4.error) as exc:
        raise _translated(exc, settings, doing) from None


class ImapSession:
    """A logged-in connection with ``settings.mailbox`` EXAMINEd (read-only).

    Not thread-safe: one thread at a time (the fetcher opens one per call).
    """

    def __init__(self, client: Any, settings: ImapSettings) -> None:
        self.client = client
        self.settings = settings
        self.uidvalidity = 0
        self.exists = 0
        self.uidnext: int | None = None

    def examine(self) -> None:
        """(Re-)EXAMINE the mailbox: read-only, so nothing there changes; refresh the counts."""
        mailbox = self.settings.mailbox
        try:
            info = self.client.select_folder(mailbox, readonly=True)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise AuthError(
                f"imap {self.settings.address}: the mailbox {mailbox!r} cannot be opened for "
                f"{self.settings.username!r} ({_text(exc, self.settings)}); check that it "
                "exists (names are case-sensitive except INBOX) and set mailbox"
            ) from None
        validity = info.get(b"UIDVALIDITY")
        if not isinstance(validity, int):
            status = self.client.folder_status(mailbox, [b"UIDVALIDITY"])
            validity = status.get(b"UIDVALIDITY")
        if not isinstance(validity, int) or validity <= 0:
            raise Unavailable(
                f"imap {self.settings.address}: the server gave no UIDVALIDITY for "
                f"{mailbox!r}, so new messages cannot be told apart"
            )
        self.uidvalidity = validity
        self.exists = int(info.get(b"EXISTS", 0))
        uidnext = info.get(b"UIDNEXT")
        self.uidnext = uidnext if isinstance(uidnext, int) and uidnext > 0 else None

    def end_cursor(self) -> Cursor:
        """A cursor past every message now in the mailbox (for ``start = "new"``)."""
        if self.uidnext is not None:
            last = self.uidnext - 1  # every UID given out so far is below UIDNEXT
        else:
            last = max(self.client.search(["UID", "*"]), default=0) if self.exists else 0
        return Cursor(self.settings.mailbox, self.uidvalidity, last)

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending.

        ``UID SEARCH UID n:*`` also matches the highest UID when it is below ``n``
        (``*`` is the highest UID and a range has no order), so the result is filtered.
        """
        if self.exists == 0:
            return []
        found = self.client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def fetch(self, uids: list[int]) -> dict[int, Fetched]:
        """Raw messages and arrival times; ``BODY.PEEK[]`` leaves ``\\Seen`` unset.

        UIDs expunged meanwhile are missing from the result.
        """
        if not uids:
            return {}
        data = self.client.fetch(uids, [b"BODY.PEEK[]", b"INTERNALDATE"])
        found: dict[int, Fetched] = {}
        for uid, item in data.items():
            if uid not in uids:  # an unsolicited FETCH (e.g. a flag change) for another UID
                continue
            raw = item.get(b"BODY[]")
            when = item.get(b"INTERNALDATE")
            found[uid] = (
                bytes(raw) if isinstance(raw, bytes | bytearray) else None,
                when.astimezone(UTC) if isinstance(when, datetime) and when.tzinfo else None,
            )
        return found

    def close(self) -> None:
        """LOGOUT, or drop the connection when that fails."""
        try:
            self.client.logout()
        except Exception:
            with contextlib.suppress(Exception):
                self.client.shutdown()

    def abort(self) -> None:
        """Drop the connection at once (from another thread): blocked reads end."""
        with contextlib.suppress(Exception):
            self.client.socket().shutdown(socket.SHUT_RDWR)


def _login(client: Any, settings: ImapSettings) -> None:
    """LOGIN; AUTHENTICATE PLAIN (UTF-8) for credentials LOGIN cannot carry (non-ASCII)."""
    username, password = settings.username, settings.password.reveal()
    if username.isascii() and password.isascii():
        client.login(username, password)
    elif client.has_capability("AUTH=PLAIN"):
        client.plain_login(username, password)
    else:
        raise AuthError(
            f"imap {settings.address}: the username or password has non-ASCII characters, "
            "which need AUTHENTICATE PLAIN, and the server does not offer it"
        )


def connect(settings: ImapSettings) -> ImapSession:
    """Connect, secure, log in and EXAMINE; the caller closes the session."""
    with translate_errors(settings, "connecting"):
        client = imapclient.IMAPClient(
            settings.host,
            port=settings.port,
            ssl=settings.security == "tls",
            ssl_context=ssl_context(settings) if settings.security == "tls" else None,
            timeout=settings.timeout,
        )
    session = ImapSession(client, settings)
    try:
        client.normalise_times = False  # aware INTERNALDATEs, not local naive times
        if settings.security == "starttls":
            with translate_errors(settings, "starting TLS"):
                if not client.has_capability("STARTTLS"):
                    raise AuthError(
                        f"imap {settings.address}: the server does not offer STARTTLS; "
                        'use security = "tls" (usually port 993)'
                    )
                client.starttls(ssl_context(settings))
        with translate_errors(settings, "logging in"):
            if client.has_capability("LOGINDISABLED"):
                raise AuthError(
                    f"imap {settings.address}: the server refuses LOGIN on this connection; "
                    'use security = "tls" or "starttls"'
                )
            _login(client, settings)
        with translate_errors(settings, f"opening {settings.mailbox!r}"):
            session.examine()
    except BaseException:
        session.abort()
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    _log.debug("connected to {} as {}", settings.address, settings.username)
    return session


@contextlib.contextmanager
def open_session(settings: ImapSettings, doing: str) -> Iterator[ImapSession]:
    """A connected session for the body of the ``with``; LOGOUT at the end."""
    session = connect(settings)
    try:
        with translate_errors(settings, doing):
            yield session
    finally:
        session.close()
