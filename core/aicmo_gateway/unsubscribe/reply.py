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
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.ports import Reply
    from aicmo_gateway.state.suppression import Entry

__all__ = ["suppress_from_reply"]

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
    """
    email = gateway.config.email
    if not email.unsubscribe_mailto or email.unsubscribe_secret is None:
        return None
    signer = Signer(email.unsubscribe_secret, email.unsubscribe_old_secrets)
    for candidate in _TOKEN.findall(reply.subject or "")[:5]:
        try:
            wish = signer.read(candidate)
        except TokenError:
            continue
        source = "mailto" + (f" list {wish.list_id}" if wish.list_id else "")
        return await gateway.suppression.add(wish.recipient, "unsubscribed", source)
    mailbox = normalize(email.unsubscribe_mailto)
    if mailbox not in {_bare(a) for a in (*reply.to, *reply.cc)}:
        return None
    sender = _bare(reply.sender)
    if sender is None or sender == mailbox:
        return None
    return await gateway.suppression.add(sender, "unsubscribed", "mailto")
