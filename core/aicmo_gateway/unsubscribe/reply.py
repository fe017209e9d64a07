"""Unsubscribes that arrive by mail, at the ``mailto:`` address of ``List-Unsubscribe``.

Call :func:`suppress_from_reply` on each reply your ``reply_fetching`` returns (see
docs/deliverability.md); it does nothing to a reply not meant for the unsubscribe address.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.state.suppression import normalize
from aicmo_gateway.unsubscribe.token import Signer, TokenError

if TYPE_CHECKING:
    from aicmo_gateway.config.email import EmailSettings
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.ports import Reply
    from aicmo_gateway.state.suppression import Entry
    from aicmo_gateway.suppression import Suppression

__all__ = ["suppress_from_reply", "unsubscribe_by_mail"]

_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{20,}")


def _bare(address: str | None) -> str | None:
    try:
        return normalize(address) if address else None
    except InvalidInput:
        return None


async def suppress_from_reply(gateway: Gateway, reply: Reply) -> Entry | None:
    """Suppress whoever asked, by mail, to unsubscribe; ``None`` when the reply is not that.

    A subject holding a valid token (the ``mailto:`` link's ``subject=unsubscribe <token>``)
    suppresses the token's recipient, even when the mail comes from a forwarding address;
    otherwise a mail sent to ``[email] unsubscribe_mailto`` suppresses its sender.
    ``gateway.reply_fetching.fetch_replies`` does this by itself unless
    ``[email] suppress_from_replies = false``; calling it again changes nothing.
    """
    return await unsubscribe_by_mail(gateway.suppression, gateway.config.email, reply)


async def unsubscribe_by_mail(
    suppression: Suppression, email: EmailSettings, reply: Reply
) -> Entry | None:
    """:func:`suppress_from_reply` given the list and the ``[email]`` settings."""
    if not email.unsubscribe_mailto or email.unsubscribe_secret is None:
        return None
    signer = Signer(email.unsubscribe_secret, email.unsubscribe_old_secrets)
    for candidate in _TOKEN.findall(reply.subject or "")[:5]:
        try:
            wish = signer.read(candidate)
        except TokenError:
            continue
        source = "mailto" + (f" list {wish.list_id}" if wish.list_id else "")
        return await suppression.add(wish.recipient, "unsubscribed", source)
    mailbox = normalize(email.unsubscribe_mailto)
    if mailbox not in {_bare(a) for a in (*reply.to, *reply.cc)}:
        return None
    sender = _bare(reply.sender)
    if sender is None or sender == mailbox:
        return None
    return await suppression.add(sender, "unsubscribed", "mailto")
