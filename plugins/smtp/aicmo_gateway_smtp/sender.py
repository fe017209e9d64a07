"""``SmtpSender``: the ``email_sending`` provider that submits messages to an SMTP server.

A send renders the message with the core's MIME helpers (``render_message``, which
checks the bytes once, with the wire policy), borrows a logged-in
session from the pool and runs one mail transaction: MAIL FROM, RCPT TO for
to + cc + bcc (Bcc never appears in the headers), DATA. The message's
Message-ID is kept as given (the gateway derives it from the idempotency key,
so a retried send carries the same one); a message without one gets a new one.

Failures are classified by :mod:`aicmo_gateway_smtp.classify`; the one case
that may have delivered the message (the connection lost after the content was
written, before the server's reply) raises ``Ambiguous``.
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

import attrs
from aiosmtplib import (
    SMTP,
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponse,
    SMTPResponseException,
)
from loguru import logger

from aicmo_gateway import Quota
from aicmo_gateway.errors import InvalidInput, ProviderError, Unavailable
from aicmo_gateway.mime import SMTP_POLICY, render_message
from aicmo_gateway.ports import EmailMessage, SendReceipt
from aicmo_gateway_smtp.classify import (
    after_content,
    network_failure,
    recipients_refused,
    reply_error,
)
from aicmo_gateway_smtp.connection import (
    close_session,
    make_tls_context,
    open_session,
    quit_session,
)
from aicmo_gateway_smtp.pool import Lease, SessionPool
from aicmo_gateway_smtp.settings import SmtpSettings

__all__ = ["SmtpSender"]


@functools.lru_cache(maxsize=64)
def _bare(sender: str) -> str:
    """The ``local@domain`` of a From address (senders repeat: parsed once each)."""
    return parseaddr(sender)[1]


#: SMTP_POLICY for SMTPUTF8 transactions (one object: the renderer's fast path knows it)
_UTF8_POLICY = SMTP_POLICY.clone(utf8=True)
_LEADING_DOT = re.compile(rb"(?m)^\.")
_QUEUE_ID = re.compile(r"(?:queued as|\bid=)\s*<?([A-Za-z0-9._@-]+)>?", re.I)


@attrs.frozen
class _Envelope:
    sender: str
    recipients: tuple[str, ...]
    data: bytes  # CRLF line ends, not yet dot-stuffed
    utf8: bool


@attrs.frozen
class _Delivered:
    refused: dict[str, tuple[int, str]]
    reply: SMTPResponse


class _StaleSession(Exception):
    """A reused session was found dead before anything was sent: retry on a new one."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


class SmtpSender:
    """Sends messages through one SMTP server, reusing a few logged-in connections."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        host, port, self.security = settings.server
        #: ``host:port``, as errors and logs name the server
        self.server = f"{host}:{port}"
        # built now, so an unreadable ca_file is a configuration error, not a failed send
        self._tls: ssl.SSLContext | None = (
            make_tls_context(settings) if self.security != "none" else None
        )
        self._pool = SessionPool(self._open, size=settings.pool_size, max_idle=settings.max_idle)
        self._log = logger.bind(provider_type="smtp", server=self.server)

    @classmethod
    def from_settings(cls, **values: Any) -> SmtpSender:
        """Build a sender from config keys (see :class:`SmtpSettings`)."""
        return cls(SmtpSettings(**values))

    def __repr__(self) -> str:
        # the username may come from the environment: say whether there is a login, not whose
        login = ", login=True" if self.settings.username else ""
        return f"SmtpSender({self.server!r}, security={self.security!r}{login})"

    @property
    def quotas(self) -> tuple[Quota, ...]:
        """This account's sending quotas (from the preset, or ``daily_quota``)."""
        return self.settings.quotas

    @property
    def connections_opened(self) -> int:
        """How many SMTP sessions this sender has opened so far."""
        return self._pool.opened

    # -- lifecycle ---------------------------------------------------------------

    async def _open(self) -> SMTP:
        return await open_session(self.settings, self._tls)

    async def check(self) -> None:
        """Connect, negotiate TLS and log in without sending; raise when that fails."""
        client = await self._open()
        await quit_session(client)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._pool.aclose()

    # -- sending -------------------------------------------------------------------

    async def send(self, message: EmailMessage) -> SendReceipt:
        envelope, message_id = self._prepare(message)
        try:
            async with self._pool.lease() as lease:
                delivered = await self._transact(lease, envelope)
        except _StaleSession as stale:
            self._log.debug("reused session was closed by the server ({}); reconnecting", stale)
            async with self._pool.lease(fresh=True) as lease:
                delivered = await self._transact(lease, envelope)
        refused = {addr: f"{code} {text}" for addr, (code, text) in delivered.refused.items()}
        self._log.debug("sent {} to {} recipient(s)", message_id, len(envelope.recipients))
        found = _QUEUE_ID.search(delivered.reply.message)
        return SendReceipt(
            message_id=message_id,
            provider_message_id=found.group(1) if found else None,
            accepted=[r for r in envelope.recipients if r not in delivered.refused],
            refused=refused,
        )

    def _prepare(self, message: EmailMessage) -> tuple[_Envelope, str]:
        sender = message.sender or self.settings.sender_address
        if not sender:
            raise Unavailable(
                f"{self.server}: the message has no sender and this provider has no "
                "default_sender; set default_sender (or a username that is an address)"
            )
        bare_sender = _bare(sender)
        domain = bare_sender.rpartition("@")[2] or "localhost"
        recipients = message.recipients
        utf8 = not (bare_sender.isascii() and all(a.isascii() for a in recipients))
        # checked once, with the policy of the wire: CRLF line ends only, no injection
        data, message_id = render_message(
            message,
            policy=_UTF8_POLICY if utf8 else SMTP_POLICY,
            default_sender=sender,
            domain=domain,
        )
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        return _Envelope(bare_sender, recipients, data, utf8), message_id

    async def _transact(self, lease: Lease, envelope: _Envelope) -> _Delivered:
        client = lease.client
        lease.clean = True
        timeout = self.settings.timeout
        encoding = "utf-8" if envelope.utf8 else "ascii"
        options = self._mail_options(client, envelope)
        stage = "mail"
        try:
            lease.clean = False  # mid-transaction until RSET or the final reply
            try:
                await client.mail(envelope.sender, options=options, encoding=encoding)
            except SMTPResponseException as exc:
                if exc.code == 421 and lease.reused:  # the server timed the idle session out
                    raise _StaleSession(
                        reply_error(exc.code, exc.message, stage=stage, server=self.server)
                    ) from None
                await self._reset(lease)
                raise reply_error(exc.code, exc.message, stage=stage, server=self.server) from None
            stage = "rcpt"
            refused = await self._recipients(client, envelope.recipients, encoding)
            if len(refused) == len(envelope.recipients):
                await self._reset(lease)
                raise recipients_refused(refused, server=self.server)
            stage = "data"
            reply = await client.execute_command(b"DATA", timeout=timeout)
            if reply.code != 354:
                await self._reset(lease)
                raise reply_error(reply.code, reply.message, stage=stage, server=self.server)
        except (SMTPException, OSError) as exc:
            error = network_failure(exc, stage=stage, server=self.server)
            if stage == "mail" and lease.reused and isinstance(exc, ConnectionError):
                raise _StaleSession(error) from None
            raise error from None
        reply = await self._content(client, envelope.data)
        lease.sent += 1
        lease.clean = True  # the transaction is over, whatever the reply
        if reply.code != 250:
            raise reply_error(reply.code, reply.message, stage="content", server=self.server)
        return _Delivered(refused, reply)

    def _mail_options(self, client: SMTP, envelope: _Envelope) -> list[str]:
        options = []
        if envelope.utf8:
            if not client.supports_extension("smtputf8"):
                raise InvalidInput(
                    f"{self.server} does not support SMTPUTF8, so it cannot take the "
                    "non-ASCII addresses of this message; use ASCII addresses"
                )
            options.append("SMTPUTF8")
        if client.supports_extension("size"):
            limit = client.esmtp_extensions.get("size", "").strip()
            if limit.isdigit() and 0 < int(limit) < len(envelope.data):
                raise InvalidInput(
                    f"{self.server} accepts messages up to {int(limit)} bytes; this one has "
                    f"{len(envelope.data)} (attachments count about 4/3 of their size)"
                )
            options.append(f"SIZE={len(envelope.data)}")
        return options

    async def _recipients(
        self, client: SMTP, recipients: Sequence[str], encoding: str
    ) -> dict[str, tuple[int, str]]:
        refused: dict[str, tuple[int, str]] = {}
        for recipient in recipients:
            try:
                await client.rcpt(recipient, encoding=encoding)
            except SMTPRecipientRefused as exc:
                refused[recipient] = (exc.code, exc.message)
        return refused

    async def _content(self, client: SMTP, data: bytes) -> SMTPResponse:
        """Write the content and the final dot, then wait for the server's verdict.

        From the first byte written the message may be delivered, so a lost
        connection or a timeout here is ``Ambiguous``.
        """
        protocol = client.protocol
        if protocol is None or not client.is_connected:
            raise network_failure(
                ConnectionError("the connection closed"), stage="data", server=self.server
            )
        try:
            protocol.write(_LEADING_DOT.sub(b"..", data) + b".\r\n")
            return await protocol.read_response(timeout=self.settings.timeout)
        except (SMTPException, OSError) as exc:
            close_session(client)
            raise after_content(exc, server=self.server) from None

    async def _reset(self, lease: Lease) -> None:
        """End a refused transaction with RSET so the session can be reused."""
        try:
            reply = await lease.client.rset()
        except (SMTPException, OSError):
            return
        lease.clean = reply.code == 250
