"""What a received message is: a human reply, a bounce, a complaint or an auto-reply.

:func:`~aicmo_gateway.mime.parse_reply` fills :attr:`Reply.kind <aicmo_gateway.ports.Reply.kind>`
and, for bounces and complaints, :class:`Bounce` and :class:`Complaint` records.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from aicmo_gateway.ports.email import Reply

__all__ = ["Bounce", "Complaint", "ReplyKind", "SuppressionHint", "suppression_hints"]


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
    return ReplyKind(value)


@attrs.frozen
class SuppressionHint:
    """What one received message says about mailing one address again.

    ``hard_bounce`` and ``complaint`` mean: stop now. ``soft_bounce`` means: one more
    temporary failure in a row; suppress once a configured number have come in a row.
    """

    address: str
    reason: Literal["hard_bounce", "soft_bounce", "complaint"]
    #: the status code and diagnostic, or the feedback type and reporter, for the record
    detail: str = ""

    @property
    def immediate(self) -> bool:
        """``True`` when the address should be suppressed at once (not a soft bounce)."""
        return self.reason != "soft_bounce"


def suppression_hints(reply: Reply) -> tuple[SuppressionHint, ...]:
    """The addresses a bounce or complaint names, each with the reason to suppress it.

    A human reply or an auto-reply gives none, nor does a complaint whose recipient the
    reporter redacted. An address that is listed twice is given once, hard before soft.
    """
    hints: dict[str, SuppressionHint] = {}
    for bounce in reply.bounces:
        reason: Literal["hard_bounce", "soft_bounce"] = (
            "hard_bounce" if bounce.hard else "soft_bounce"
        )
        detail = " ".join(x for x in (bounce.status, bounce.diagnostic) if x)
        key = bounce.recipient.lower()
        if key not in hints or hints[key].reason == "soft_bounce":
            hints[key] = SuppressionHint(bounce.recipient, reason, detail)
    for complaint in reply.complaints:
        if complaint.recipient is not None:
            detail = " ".join(x for x in (complaint.feedback_type, complaint.reporter) if x)
            hints[complaint.recipient.lower()] = SuppressionHint(
                complaint.recipient, "complaint", detail
            )
    return tuple(hints.values())
