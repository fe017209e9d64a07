"""Read the machine-readable reports of RFC 3464 (delivery status) and RFC 5965 (feedback).

Each report is read from the bounded message :func:`~aicmo_gateway.mime.parse_reply`
parsed; every field goes through :func:`~aicmo_gateway.mime.limits.bound_header`, and at
most ``MAX_ADDRESSES`` recipient blocks and ``MAX_PARTS`` parts are looked at.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

from aicmo_gateway.mime.limits import MAX_ADDRESSES, MAX_HEADER_CHARS, MAX_PARTS, bound_header
from aicmo_gateway.ports.bounces import Bounce, Complaint

__all__ = ["delivery_status", "feedback_report", "hard_or_soft", "parts", "status_in"]

#: an RFC 3463 enhanced status code, e.g. 5.1.1 or 4.2.2
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
#: an SMTP reply code at the start of a reply line, e.g. "550 " or "452-"
_SMTP = re.compile(r"(?:^|[\s;:(])([245])\d\d[\s-]")
#: enhanced codes that are permanent by class but describe a passing condition (mailbox full)
_SOFT_PERMANENT = frozenset({"5.2.2"})
#: what one field of a report may hold; more is cut
_FIELD_CHARS = 1_000


def parts(msg: Message) -> list[Message]:
    """The first ``MAX_PARTS`` parts of ``msg`` in order, depth first, without recursion."""
    found: list[Message] = []
    stack = [msg]
    while stack and len(found) < MAX_PARTS:
        part = stack.pop()
        found.append(part)
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed([p for p in payload[:MAX_PARTS] if isinstance(p, Message)]))
    return found


def _field(block: Message, name: str) -> str:
    """``name`` of a report block, unfolded, bounded and stripped of comments' excess."""
    value = block.get(name)
    if value is None:
        return ""
    text = bound_header(name, str(value))[0]
    return " ".join(text.split())[:_FIELD_CHARS]


def _address(typed: str) -> str | None:
    """The address of an ``rfc822; user@example.com`` field (the type is optional)."""
    _, _, value = typed.rpartition(";")
    address = parseaddr(value.strip())[1] or value.strip().strip("<>")
    return address if "@" in address and " " not in address else None


def status_in(text: str) -> str | None:
    """The first enhanced status code (``5.1.1``) in ``text``, if any."""
    found = _ENHANCED.search(text[:MAX_HEADER_CHARS])
    return ".".join(found.groups()) if found else None


def hard_or_soft(status: str | None, action: str | None, diagnostic: str | None) -> bool:
    """``True`` (hard) or ``False`` (soft) for one failed recipient.

    The enhanced status code decides when there is one: class 5 is hard and class 4 soft,
    except 5.2.2 (mailbox full), which is soft because it passes. Else the SMTP reply code
    of the diagnostic (5xx hard, 4xx soft); else the action (``delayed`` is soft); else hard.
    """
    if status is None and diagnostic:
        status = status_in(diagnostic)
    if status is not None:
        return status[0] == "5" and status not in _SOFT_PERMANENT
    if diagnostic:
        code = _SMTP.search(f" {diagnostic[:_FIELD_CHARS]} ")
        if code is not None:
            return code.group(1) == "5"
    return not (action or "").lower().startswith("delayed")


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a ``message/delivery-status`` or ``message/feedback-report`` part.

    The email package parses the first into a list of blocks; a part it left as text (a
    feedback report, or a status part with a transfer encoding) is parsed here, bounded.
    """
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [b for b in payload[: MAX_ADDRESSES + 1] if isinstance(b, Message)]
        rest = blocks[-1].get_payload() if len(blocks) == 1 else None
        # a type the email package does not know (message/global-delivery-status) is read
        # as one message: its headers are the first block and its body holds the others
        return blocks + _text_blocks(rest) if isinstance(rest, str) else blocks
    raw = part.get_payload(decode=True)
    return _text_blocks(raw.decode("utf-8", "replace")) if isinstance(raw, bytes) else []


def _text_blocks(text: str) -> list[Message]:
    text = text[: MAX_HEADER_CHARS * 4].replace("\r\n", "\n")
    chunks = [c for c in re.split(r"\n[ \t]*\n", text) if c.strip()][: MAX_ADDRESSES + 1]
    return [HeaderParser().parsestr(chunk.strip("\n") + "\n") for chunk in chunks]


def delivery_status(msg: Message) -> list[Bounce]:
    """The failed and delayed recipients of every ``message/delivery-status`` part of ``msg``.

    Blocks whose ``Action`` is ``delivered``, ``relayed`` or ``expanded`` are not failures
    and are skipped; the first block of each part is the per-message block.
    """
    found: dict[str, Bounce] = {}
    for part in parts(msg):
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        for block in _blocks(part)[1:]:
            action = _field(block, "Action").lower().split(" ")[0] or None
            if action in ("delivered", "relayed", "expanded"):
                continue
            recipient = _address(_field(block, "Original-Recipient")) or _address(
                _field(block, "Final-Recipient")
            )
            if recipient is None or len(found) >= MAX_ADDRESSES:
                continue
            status = status_in(_field(block, "Status"))
            diagnostic = _field(block, "Diagnostic-Code").partition(";")[2].strip() or None
            hard = hard_or_soft(status, action, diagnostic)
            if action is None:
                action = "failed" if hard else "delayed"
            key = recipient.lower()
            if key not in found or (hard and not found[key].hard):
                found[key] = Bounce(recipient, status, hard, diagnostic, action)
    return list(found.values())


def _original(msg: Message) -> Message | None:
    """The reported message's headers: its ``message/rfc822`` or ``text/rfc822-headers`` part."""
    for part in parts(msg):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        elif ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return HeaderParser().parsestr(
                    raw[: MAX_HEADER_CHARS * 4].decode("utf-8", "replace")
                )
    return None


def feedback_report(msg: Message) -> list[Complaint]:
    """The complaint of a ``multipart/report; report-type=feedback-report`` message."""
    report = next(
        (p for p in parts(msg) if p.get_content_type() == "message/feedback-report"), None
    )
    fields = _blocks(report)[0] if report is not None and _blocks(report) else Message()
    feedback_type = _field(fields, "Feedback-Type").lower() or "abuse"
    original = _original(msg)
    recipients = [a for a in (_address(_field(fields, "Original-Rcpt-To")),) if a is not None] or [
        a
        for _, a in getaddresses([_field(original, "To")] if original is not None else [])
        if "@" in a
    ][:MAX_ADDRESSES]
    message_id = _field(original, "Message-ID") if original is not None else ""
    reporter = _field(fields, "User-Agent")
    return [
        Complaint(r, feedback_type, reporter, message_id)
        for r in (recipients or [None])  # type: ignore[list-item]
    ]
