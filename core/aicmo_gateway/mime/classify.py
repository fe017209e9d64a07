"""Tell bounces, complaints and auto-replies from human replies.

Order, first match wins:

1. ``multipart/report; report-type=feedback-report`` (ARF, RFC 5965): a complaint.
2. ``multipart/report; report-type=delivery-status`` (RFC 3464): a bounce, each recipient
   hard or soft from its status code, diagnostic and action (:func:`~.reports.hard_or_soft`).
3. A message a mail system sent (From ``MAILER-DAEMON``, ``postmaster`` and the like, an
   ``X-Failed-Recipients`` header, or a null ``Return-Path: <>``): the MTA formats of
   Postfix, Exim, qmail, Exchange, Yahoo and others are read by flufl.bounce's detectors,
   and the status code near each address in the text decides hard or soft.
4. ``Auto-Submitted`` other than ``no`` (RFC 3834), ``X-Autoreply``, ``X-Autorespond``,
   ``Precedence: auto_reply``, or an out-of-office subject prefix (``Automatic reply:``,
   ``Out of Office:``, ``Abwesenheitsnotiz:``, ...): an auto-reply.
5. Anything else: a human reply.

Only what the message's own headers say makes it a bounce: a person who quotes a bounce,
forwards one or writes "Undeliverable" in a subject is still a human. The work is bounded:
the parts and fields are read within :mod:`~aicmo_gateway.mime.limits`, and the MTA
detectors see at most ``MAX_DETECTED_BYTES`` of the message.
"""

from __future__ import annotations

import functools
import logging
import re
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses

import attrs

from aicmo_gateway.mime.limits import MAX_ADDRESSES, MAX_HEADER_CHARS, bound_header
from aicmo_gateway.mime.reports import (
    delivery_status,
    feedback_report,
    hard_or_soft,
    parts,
    status_in,
)
from aicmo_gateway.ports.bounces import Bounce, Complaint, ReplyKind

__all__ = ["MAX_DETECTED_BYTES", "Classification", "classify"]

#: bytes of a message handed to the MTA-format detectors; bounces are a few KiB
MAX_DETECTED_BYTES = 256 * 1024
#: characters of text around an address searched for its status code
_NEAR = 400

_MAILER = re.compile(
    r"^(mailer-daemon|mailer_daemon|postmaster|mail-daemon|mail\.?delivery\.?(subsystem|system)?"
    r"|microsoftexchange[0-9a-f]*|bounces?)@",
    re.IGNORECASE,
)
#: subjects of out-of-office answers that carry no RFC 3834 header: a prefix and a colon
_OUT_OF_OFFICE = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|auto|out of (the )?office"
    r"( auto-?reply)?|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique"
    r"|respuesta autom[aá]tica|risposta automatica|vacation reply)\s*:",
    re.IGNORECASE,
)


@attrs.frozen
class Classification:
    kind: ReplyKind
    bounces: tuple[Bounce, ...] = ()
    complaints: tuple[Complaint, ...] = ()
    warnings: tuple[str, ...] = ()


def _value(msg: Message, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else " ".join(bound_header(name, str(value))[0].split())


def _from_mailer(msg: Message) -> bool:
    senders = getaddresses([_value(msg, "From")])[:MAX_ADDRESSES]
    return any(_MAILER.match(address) for _, address in senders)


def classify(msg: Message, raw: bytes) -> Classification:
    """The kind of the parsed message ``msg`` (``raw`` is its source, for the MTA detectors)."""
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()[:64]
    if ctype == "multipart/report" and report_type == "feedback-report":
        return Classification(ReplyKind.COMPLAINT, complaints=tuple(feedback_report(msg)))
    if ctype == "multipart/report" and report_type in ("delivery-status", "global-delivery-status"):
        found = delivery_status(msg)
        if found:
            return Classification(ReplyKind.BOUNCE, bounces=tuple(found))
    mailer = _from_mailer(msg) or bool(_value(msg, "X-Failed-Recipients"))
    null_path = _value(msg, "Return-Path").replace(" ", "") == "<>"
    if mailer or null_path or ctype == "multipart/report":
        found = _detected(msg, raw)
        if found:
            return Classification(ReplyKind.BOUNCE, bounces=tuple(found))
        if mailer or ctype == "multipart/report":
            return Classification(
                ReplyKind.BOUNCE,
                warnings=("bounce: a mail system sent this, but no failed recipient was found",),
            )
    if _auto_reply(msg):
        return Classification(ReplyKind.AUTO_REPLY)
    return Classification(ReplyKind.HUMAN)


def _auto_reply(msg: Message) -> bool:
    auto = _value(msg, "Auto-Submitted").lower()
    if auto and not auto.startswith("no"):
        return True
    if _value(msg, "X-Autoreply") or _value(msg, "X-Autorespond"):
        return True
    if _value(msg, "Precedence").lower() in ("auto_reply", "auto-reply"):
        return True
    return bool(_OUT_OF_OFFICE.match(_value(msg, "Subject")))


def _text(msg: Message) -> str:
    """The text parts of a bounce (not of the returned message), joined, bounded."""
    chunks: list[str] = []
    size = 0
    for part in parts(msg):
        if (
            part.get_content_maintype() != "text"
            or part.get_content_type() == "text/rfc822-headers"
        ):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            chunks.append(payload[: MAX_DETECTED_BYTES - size].decode("utf-8", "replace"))
            size += len(payload)
        if size >= MAX_DETECTED_BYTES:
            break
    return "\n".join(chunks)


@functools.cache
def _quiet_detectors() -> None:
    """flufl.bounce logs a detector's exception, which it re-raises and we handle: a
    ``NullHandler`` keeps Python's last-resort handler from printing it to stderr when the
    application configured no logging (records still reach any handler it configured)."""
    logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())


def _detected(msg: Message, raw: bytes) -> list[Bounce]:
    """The recipients of a non-standard bounce, by flufl.bounce's detectors and the text."""
    from flufl.bounce import all_failures

    _quiet_detectors()
    from aicmo_gateway.mime.parse import STRUCTURE

    if len(raw) > MAX_DETECTED_BYTES:
        msg = BytesParser(policy=STRUCTURE).parsebytes(raw[:MAX_DETECTED_BYTES])
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a detector tripped on a hostile message; the text may still tell
        temporary, permanent = frozenset(), frozenset()
    failed = [(a, True) for a in sorted(permanent)] + [(a, False) for a in sorted(temporary)]
    text = _text(msg)
    header = _value(msg, "X-Failed-Recipients")
    if not failed and header:
        failed = [(a.encode(), True) for _, a in getaddresses([header]) if "@" in a]
    found: dict[str, Bounce] = {}
    for encoded, permanent_ in failed[:MAX_ADDRESSES]:
        recipient = encoded.decode("ascii", "replace")
        if recipient.lower() in found:
            continue
        status, diagnostic = _near(text, recipient)
        hard = hard_or_soft(status, None, diagnostic) if (status or diagnostic) else permanent_
        action = "failed" if hard or permanent_ else "delayed"
        found[recipient.lower()] = Bounce(recipient, status, hard, diagnostic, action)
    return list(found.values())


_CODE_LINE = re.compile(r"[^\n]*\b(?:[245]\d\d[ -]|[245]\.\d{1,3}\.\d{1,3}\b)[^\n]*")


def _near(text: str, recipient: str) -> tuple[str | None, str | None]:
    """The status code and the server's answer given after ``recipient`` in the bounce text."""
    at = text.lower().find(recipient.lower())
    if at < 0:
        return None, None
    window = text[at + len(recipient) : at + len(recipient) + _NEAR]
    line = _CODE_LINE.search(window)
    if line is None:
        return None, None
    diagnostic = " ".join(line.group(0).split())[:MAX_HEADER_CHARS] or None
    return status_in(line.group(0)), diagnostic
