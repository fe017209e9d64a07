"""Render port records as RFC 5322 messages (``build_message``, ``message_id_for_key``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from email.message import MIMEPart
from email.utils import make_msgid
from typing import Any

from aicmo_gateway.ports import Attachment, EmailMessage

#: how messages are built: RFC 5322 with ``\n`` line ends (files), 7-bit safe bodies
POLICY = policy.default.clone(cte_type="7bit")
#: the same with ``\r\n`` line ends, for ``message.as_bytes(policy=SMTP_POLICY)`` on the wire
SMTP_POLICY = policy.SMTP.clone(cte_type="7bit")


def message_id_for_key(key: str, domain: str) -> str:
    """A Message-ID derived from an idempotency key: the same key always yields the same id.

    The key is hashed, so it never shows in the header.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}.aicmo@{domain}>"


def build_message(
    message: EmailMessage,
    *,
    message_id: str | None = None,
    default_sender: str | None = None,
    domain: str = "localhost",
    date: datetime | None = None,
) -> MimeMessage:
    """Render ``message`` as a standards-conforming MIME message.

    Text and HTML become ``multipart/alternative``; attachments with a
    ``content_id`` are placed next to the HTML in ``multipart/related``; other
    attachments make the message ``multipart/mixed``. Bcc never appears in the
    headers. Non-ASCII headers are encoded per RFC 2047 when flattened.

    The Message-ID is ``message.message_id``, else ``message_id``, else a new
    one in ``domain``. Raises ``ValueError`` when neither the message nor
    ``default_sender`` names a sender (RFC 5322 requires a From header).
    """
    sender = message.sender or default_sender
    if not sender:
        raise ValueError(
            "the message has no sender: pass EmailMessage(sender=...) or configure "
            "the provider's default sender"
        )
    mime = _body(message)
    mime["From"] = sender
    if message.to:
        mime["To"] = ", ".join(message.to)
    if message.cc:
        mime["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        mime["Reply-To"] = ", ".join(message.reply_to)
    mime["Subject"] = message.subject
    mime["Date"] = date or datetime.now(UTC)
    mime["Message-ID"] = message.message_id or message_id or make_msgid(domain=domain)
    if message.in_reply_to:
        mime["In-Reply-To"] = message.in_reply_to
    if message.references:
        mime["References"] = " ".join(message.references)
    for name, value in message.headers:
        mime[name] = value
    for part in mime.walk():
        if part is not mime:
            del part["MIME-Version"]  # set_content adds it to every part; only the top needs it
    return mime


def _body(message: EmailMessage) -> MimeMessage:
    mime = MimeMessage(policy=POLICY)
    html_part: MIMEPart | None = None
    if message.text is not None:
        mime.set_content(message.text)
        if message.html is not None:
            mime.add_alternative(message.html, subtype="html")
            html_part = list(mime.iter_parts())[1]
    else:
        mime.set_content(message.html or "", subtype="html")
        html_part = mime
    for attachment in message.attachments:
        if attachment.content_id and html_part is not None:
            _add(html_part.add_related, attachment, disposition="inline")
    for attachment in message.attachments:
        if not (attachment.content_id and html_part is not None):
            inline = "inline" if attachment.content_id else "attachment"
            _add(mime.add_attachment, attachment, disposition=inline)
    return mime


def _add(method: Any, attachment: Attachment, *, disposition: str) -> None:
    maintype, subtype = attachment.content_type.split("/")
    cid = attachment.content_id
    if cid and not cid.startswith("<"):
        cid = f"<{cid}>"
    method(
        attachment.content,
        maintype=maintype,
        subtype=subtype,
        filename=attachment.filename,
        disposition=disposition,
        cid=cid,
    )
