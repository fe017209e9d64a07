"""An ``EmailMessage`` as the JSON body of Resend's ``POST /emails`` (its ``SendEmailRequest``).

The body is a pure function of the message, the sender and the tags, so a retried send with the
same idempotency key sends the very same body (Resend refuses a reused key with another body).
What Resend cannot express raises :class:`~aicmo_gateway.Unavailable` (another provider may send
the message), never ``InvalidInput``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from aicmo_gateway import Unavailable
from aicmo_gateway.ports import EmailMessage

__all__ = ["MAX_KEY_LENGTH", "MAX_TO", "email_body", "idempotency_header"]

#: Resend's limits: addresses in ``to``, and characters in an idempotency key
MAX_TO = 50
MAX_KEY_LENGTH = 256


def email_body(message: EmailMessage, sender: str, tags: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body for ``message`` sent from ``sender``."""
    if not message.to:
        raise Unavailable(
            "resend: the message has only cc/bcc recipients, but Resend requires at least one "
            "'to' address; add one, or send it through another provider"
        )
    if len(message.to) > MAX_TO:
        raise Unavailable(
            f"resend: the message has {len(message.to)} 'to' addresses; Resend takes at most "
            f"{MAX_TO} per email: split the recipients"
        )
    body: dict[str, Any] = {"from": sender, "to": list(message.to), "subject": message.subject}
    for field in ("cc", "bcc", "reply_to"):
        values = getattr(message, field)
        if values:
            body[field] = list(values)
    if message.text:
        body["text"] = message.text
    if message.html:
        body["html"] = message.html
    headers = _headers(message)
    if headers:
        body["headers"] = headers
    if message.attachments:
        body["attachments"] = [
            {
                "filename": item.filename,
                "content": base64.b64encode(item.content).decode("ascii"),
                "content_type": item.content_type,
                **({"content_id": item.content_id} if item.content_id else {}),
            }
            for item in message.attachments
        ]
    if tags:
        body["tags"] = [{"name": name, "value": value} for name, value in sorted(tags.items())]
    return body


def _headers(message: EmailMessage) -> dict[str, str]:
    """Custom headers, then the threading headers the record carries (Resend's ``headers``)."""
    headers: dict[str, str] = {}
    for name, value in message.headers:
        if name.lower() in {key.lower() for key in headers}:
            raise Unavailable(
                f"resend: the header {name!r} appears twice; Resend's headers are a table of "
                "one value per name, so send this message through another provider"
            )
        headers[name] = value
    if message.message_id:
        headers["Message-ID"] = message.message_id
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = " ".join(message.references)
    return headers


def idempotency_header(key: str) -> str:
    """The ``Idempotency-Key`` value for ``key``: itself, or a digest when Resend would refuse it.

    Resend takes 1 to 256 characters; a longer key, or one that cannot travel in a header, is
    replaced by its SHA-256 (the same key always gives the same value, so retries still match).
    """
    if 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable():
        return key
    return "sha256-" + hashlib.sha256(key.encode("utf-8")).hexdigest()
