"""What every outgoing message passes before a provider sees it: the suppression list, then the
one-click unsubscribe headers (RFC 8058) for marketing mail.

Called by ``gateway.email_sending.send`` before the chain, so single sends, batches, every chain
strategy and replays all go through it. With no list and no unsubscribe configured it costs
nothing; with a list, one lookup per message (one query on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import quote

import attrs

from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.suppression import Entry, normalize

if TYPE_CHECKING:
    from aicmo_gateway.config.email import EmailSettings
    from aicmo_gateway.suppression import Suppression
    from aicmo_gateway.unsubscribe.token import Signer

__all__ = ["Compliance", "Prepared", "unsubscribe_headers"]

_ONE_CLICK = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
_EMPTY: Mapping[str, Entry] = MappingProxyType({})


@attrs.frozen
class Prepared:
    """The message to hand to the chain (``None``: reject it) and the recipients dropped."""

    message: EmailMessage | None
    #: recipient (``local@domain`` as written) -> the entry that suppressed it
    dropped: Mapping[str, Entry] = _EMPTY

    def reason(self) -> str:
        """``every recipient is suppressed: a@x.com unsubscribed on 2026-11-30 (one-click)``."""
        what = "; ".join(entry.describe() for entry in self.dropped.values())
        return f"every recipient is suppressed: {what}"


def list_id_of(message: EmailMessage) -> str:
    """The list a message belongs to, from its ``List-Id`` header (RFC 2919), or ``""``."""
    for name, value in message.headers:
        if name.lower() == "list-id":
            text = value.strip()
            if text.endswith(">") and "<" in text:
                text = text[text.rindex("<") + 1 : -1]
            return text.strip()[:200]
    return ""


def unsubscribe_headers(
    signer: Signer, recipient: str, list_id: str, url: str | None, mailto: str | None
) -> tuple[tuple[str, str], ...]:
    """``List-Unsubscribe`` (https: and mailto:) and ``List-Unsubscribe-Post`` for a recipient."""
    token = signer.token(recipient, list_id)
    targets = []
    if url:
        targets.append(f"<{url.replace('{token}', token)}>")
    if mailto:
        targets.append(f"<mailto:{mailto}?subject={quote('unsubscribe ' + token)}>")
    headers = [("List-Unsubscribe", ", ".join(targets))]
    if url:
        headers.append(_ONE_CLICK)
    return tuple(headers)


class Compliance:
    """The suppression check and the unsubscribe headers, for one gateway."""

    def __init__(self, suppression: Suppression | None, settings: EmailSettings) -> None:
        self.suppression = (
            suppression if suppression is not None and suppression.configured else None
        )
        self.settings = settings
        #: a store that answers at once (SQLite) is asked without a thread or an await
        store = self.suppression.store if self.suppression is not None else None
        self._now = store is not None and not store.blocking
        self.signer: Signer | None = None
        if settings.unsubscribe and settings.unsubscribe_secret is not None:
            from aicmo_gateway.unsubscribe.token import Signer

            self.signer = Signer(settings.unsubscribe_secret, settings.unsubscribe_old_secrets)

    @property
    def active(self) -> bool:
        return self.suppression is not None or self.signer is not None

    async def prepare(self, message: EmailMessage) -> Prepared:
        dropped: Mapping[str, Entry] = _EMPTY
        if self.suppression is not None:
            # the fields were validated when the message was made: take the address out of
            # "Name <a@b>" directly instead of parsing it again (message.recipients does)
            keys: dict[str, str] = {}
            for item in (*message.to, *message.cc, *message.bcc):
                bare = _bare(item)
                keys.setdefault(normalize(bare), bare)
            if self._now:
                found = self.suppression.lookup_now(list(keys), message.category)
            else:
                found = await self.suppression.lookup(list(keys), message.category)
            if found:
                dropped = MappingProxyType({keys[key]: entry for key, entry in found.items()})
                if len(dropped) == len(keys):
                    return Prepared(None, dropped)
                message = _without(message, set(found))
        if self.signer is not None and message.category == "marketing":
            message = self._with_headers(message)
        return Prepared(message, dropped)

    def _with_headers(self, message: EmailMessage) -> EmailMessage:
        if any(name.lower() == "list-unsubscribe" for name, _ in message.headers):
            return message  # the application set its own
        recipients = message.recipients
        if len(recipients) != 1:
            from loguru import logger

            logger.warning(
                "no List-Unsubscribe header: the marketing message has {} recipients, and a "
                "one-click token names one; send marketing mail one recipient per message",
                len(recipients),
            )
            return message
        assert self.signer is not None
        extra = unsubscribe_headers(
            self.signer,
            recipients[0],
            list_id_of(message),
            self.settings.unsubscribe_url,
            self.settings.unsubscribe_mailto,
        )
        return attrs.evolve(message, headers=message.headers + extra)


def _bare(item: str) -> str:
    """``a@b`` from a validated ``Name <a@b>`` or ``a@b``."""
    return item[item.rindex("<") + 1 : -1] if item.endswith(">") else item


def _without(message: EmailMessage, keys: set[str]) -> EmailMessage:
    def keep(items: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(item for item in items if normalize(_bare(item)) not in keys)

    return attrs.evolve(message, to=keep(message.to), cc=keep(message.cc), bcc=keep(message.bcc))
