"""What fetched replies say about mailing people again, written into the suppression list.

``gateway.reply_fetching.fetch_replies`` hands every batch it fetched to
:meth:`ReplyFeedback.apply` when a suppression list is configured (and
``[email] suppress_from_replies`` is not ``false``):

- a **hard bounce** suppresses the failed recipient at once (reason ``hard_bounce``), a
  **complaint** the complaining one (reason ``complaint``); the source names the report's
  Message-ID and the provider that fetched it (``bounce:<id> via imap``);
- a **soft bounce** (mailbox full, server busy) counts one in the address's run; the run
  reaching ``[email] soft_bounce_limit`` suppresses it as ``hard_bounce``. A delay warning
  (``Action: delayed``) does not count: the MTA is still trying and reports the end later;
- any other message **from** an address (a person's reply, an out-of-office answer) proves its
  mailbox takes mail: the run starts over. A send the relay accepted proves nothing (its bounce
  may come hours later), so sends do not reset it;
- a mail to ``[email] unsubscribe_mailto`` unsubscribes its sender (:mod:`.unsubscribe.reply`);
  a bounce or a complaint sent there does not (its sender is a mail system).

Everything is keyed by the report's Message-ID (or, without one, a digest of its sender, date,
subject and the provider's id): fetching the same batch again counts nothing twice, and the run
is ordered by the reports' dates, not by when they were fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Reply, ReplyBatch, ReplyKind, suppression_hints
from aicmo_gateway.state.suppression import Entry, normalize

if TYPE_CHECKING:
    from aicmo_gateway.config.email import EmailSettings
    from aicmo_gateway.suppression import Suppression

__all__ = ["ReplyFeedback", "report_id"]

#: the kinds of message whose sender's soft-bounce run starts over
_ALIVE = (ReplyKind.HUMAN, ReplyKind.AUTO_REPLY)


def report_id(reply: Reply) -> str:
    """The key that makes a report count once: its Message-ID, else a digest of what it says."""
    if reply.message_id:
        return reply.message_id
    seen = "\n".join(
        str(x) for x in (reply.sender, reply.received_at, reply.subject, reply.source_id)
    )
    return "sha256:" + hashlib.sha256(seen.encode("utf-8", "replace")).hexdigest()


def _when(reply: Reply) -> datetime:
    at = reply.received_at
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _line(text: str) -> str:
    """``text`` on one line (a diagnostic may hold line breaks; a source may not)."""
    return " ".join("".join(c if ord(c) >= 32 else " " for c in text).split())


def _address(text: str | None) -> str | None:
    try:
        return normalize(text) if text else None
    except InvalidInput:
        return None


class ReplyFeedback:
    """Feeds the suppression list from fetched replies (see the module's description)."""

    def __init__(self, suppression: Suppression, settings: EmailSettings) -> None:
        self.suppression = suppression
        self.settings = settings

    async def apply(self, batch: ReplyBatch, provider: str | None) -> Mapping[str, Entry]:
        """Write what ``batch`` says; return each address a reply suppressed, with its entry."""
        found: dict[str, Entry] = {}
        via = f" via {provider}" if provider else ""
        #: senders whose runs start over, written in one transaction before the next report
        alive: list[tuple[str, datetime]] = []
        for reply in batch.replies:
            if reply.kind in _ALIVE:
                sender = _address(reply.sender)
                if sender is not None:
                    alive.append((sender, _when(reply)))
            elif reply.kind in (ReplyKind.BOUNCE, ReplyKind.COMPLAINT):
                if alive:
                    await self.suppression.reset_soft_bounces(alive)
                    alive = []
                await self._report(reply, via, found)
            if reply.kind in _ALIVE and self.settings.unsubscribe_mailto:
                from aicmo_gateway.unsubscribe.reply import unsubscribe_by_mail

                entry = await unsubscribe_by_mail(self.suppression, self.settings, reply)
                if entry is not None:
                    found[entry.target] = entry
        if alive:
            await self.suppression.reset_soft_bounces(alive)
        return found

    async def _report(self, reply: Reply, via: str, found: dict[str, Entry]) -> None:
        report = _line(report_id(reply))
        delayed = {
            b.recipient.lower() for b in reply.bounces if not b.hard and b.action == "delayed"
        }
        for hint in suppression_hints(reply):
            key = _address(hint.address)
            if key is None:
                continue
            kind = "complaint" if hint.reason == "complaint" else "bounce"
            detail = f" ({_line(hint.detail)})" if hint.detail.strip() else ""
            if hint.immediate:
                source = f"{kind}:{report}{via}{detail}"
                found[key] = await self.suppression.add(key, hint.reason, source)
                continue
            limit = self.settings.soft_bounce_limit
            if limit == 0 or hint.address.lower() in delayed:
                continue
            source = f"{limit} soft bounces in a row, last bounce:{report}{via}{detail}"
            _, entry = await self.suppression.soft_bounce(key, report, _when(reply), limit, source)
            if entry is not None:
                found[key] = entry
