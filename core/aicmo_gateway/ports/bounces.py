"""What a received message is: a human reply, a bounce, a complaint or an auto-reply.

:func:`~aicmo_gateway.mime.parse_reply` fills :attr:`Reply.kind <aicmo_gateway.ports.Reply.kind>`
and, for bounces and complaints, :class:`Bounce` and :class:`Complaint` records.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

__all__ = ["Bounce", "Complaint", "ReplyKind"]


class ReplyKind(enum.StrEnum):
    """The kind of a received message (compares equal to its string value)."""

    #: anything that is not one of the others: a person's answer
    HUMAN = "human"
    #: a delivery status notification (RFC 3464 or an MTA's own format)
    BOUNCE = "bounce"
    #: an abuse feedback report (ARF, RFC 5965): the recipient marked a message as spam
    COMPLAINT = "complaint"
    #: an automatic answer (RFC 3834 ``Auto-Submitted``, an out-of-office message)
    AUTO_REPLY = "auto_reply"


def _kind(value: Any) -> ReplyKind:
    return ReplyKind(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@attrs.frozen
class Bounce:
    """One recipient a delivery status notification reports as failed or delayed.

    ``hard`` is ``True`` for a permanent failure (the address should not be mailed again)
    and ``False`` for a temporary one (mailbox full, server busy, delivery delayed).
    """

    #: the failed address, ``local@domain``
    recipient: str
    #: the enhanced status code (RFC 3463), e.g. ``"5.1.1"``; ``None`` when the report has none
    status: str | None = attrs.field(default=None, converter=_optional_text)
    hard: bool = True
    #: the remote server's answer (``Diagnostic-Code``) or the MTA's explanation, when given
    diagnostic: str | None = attrs.field(default=None, converter=_optional_text)
    #: the report's ``Action`` (``failed``, ``delayed``), when given
    action: str | None = attrs.field(default=None, converter=_optional_text)


@attrs.frozen
class Complaint:
    """A feedback report: the recipient of one of our messages reported it (RFC 5965)."""

    #: the address that complained (``Original-Rcpt-To``, else the reported message's ``To``);
    #: ``None`` when the report hides it (many providers redact it)
    recipient: str | None
    #: ``Feedback-Type``: ``abuse``, ``fraud``, ``virus``, ``not-spam``, ``other``, ...
    feedback_type: str = "abuse"
    #: ``User-Agent`` of the reporting system, e.g. ``Yahoo!-Mail-Feedback/2.0``
    reporter: str | None = attrs.field(default=None, converter=_optional_text)
    #: the reported message's ``Message-ID``, to find the campaign it came from
    original_message_id: str | None = attrs.field(default=None, converter=_optional_text)


def kind_of(value: Any) -> ReplyKind:
    """``value`` as a :class:`ReplyKind` (for attrs converters)."""
    return _kind(value)
