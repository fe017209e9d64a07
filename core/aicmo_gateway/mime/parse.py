"""Parse received messages into ``Reply`` records, never raising on bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32
from typing import Any

from aicmo_gateway.mime.body import bodies as _bodies
from aicmo_gateway.mime.classify import classify
from aicmo_gateway.mime.limits import bound_header, bound_structure
from aicmo_gateway.ports import Reply

_MSG_ID = re.compile(r"<[^<>\s]+>")
#: the rich header parser (addresses, dates, encoded words), fed only bounded values
_RICH = policy.default


def parse_reply(
    raw: bytes, *, source_id: str | None = None, received_at: datetime | None = None
) -> Reply:
    """Parse a received message into a :class:`~aicmo_gateway.ports.Reply`.

    Never raises for bad input: malformed headers, unknown charsets and broken
    structure leave what could be read, with a line in ``Reply.warnings`` each.
    The work is bounded (see :mod:`aicmo_gateway.mime.limits`): an over-long header,
    too many parameters or addresses, or too many MIME parts are cut, with a warning.
    ``thread_id`` is the first Message-ID in References, else In-Reply-To, else
    the message's own Message-ID. ``received_at`` defaults to the Date header
    (a date without a zone is taken as UTC). ``kind``, ``bounces`` and ``complaints``
    say whether it is a human reply, a bounce, a complaint or an auto-reply
    (:func:`~aicmo_gateway.mime.classify.classify`).
    """
    try:
        return _parse(raw, source_id, _aware(received_at))
    except Exception as exc:  # a last resort: the parts above are lenient and bounded
        return Reply(
            message_id=None,
            sender=None,
            subject="",
            text=raw.decode("utf-8", errors="replace"),
            source_id=source_id,
            received_at=_aware(received_at),
            warnings=[
                f"the message could not be parsed ({type(exc).__name__}: {exc}); "
                "text is the raw message"
            ],
        )


def _parse(raw: bytes, source_id: str | None, received_at: datetime | None) -> Reply:
    warnings: list[str] = []
    bounded, cut = bound_structure(raw)
    if cut is not None:
        warnings.append(f"message: {cut}")
    msg = BytesParser(policy=STRUCTURE).parsebytes(bounded)
    warnings.extend(f"message: {_defect(d)}" for d in msg.defects)
    senders = _addresses(msg, "From", warnings)
    message_id = _first_id(_header(msg, "Message-ID", warnings))
    in_reply_to = _first_id(_header(msg, "In-Reply-To", warnings))
    references = tuple(_MSG_ID.findall(_header(msg, "References", warnings) or ""))
    text, html = _bodies(msg, warnings)
    kind = classify(msg, bounded)
    warnings.extend(kind.warnings)
    return Reply(
        message_id=message_id,
        sender=senders[0] if senders else None,
        subject=_header(msg, "Subject", warnings) or "",
        text=text,
        html=html,
        to=_addresses(msg, "To", warnings),
        cc=_addresses(msg, "Cc", warnings),
        received_at=received_at or _date(msg, warnings),
        in_reply_to=in_reply_to,
        references=references,
        thread_id=(references[0] if references else None) or in_reply_to or message_id,
        source_id=source_id,
        warnings=_unique(warnings),
        kind=kind.kind,
        bounces=kind.bounces,
        complaints=kind.complaints,
    )


class _BoundedCompat32(Compat32):
    """The structure parse: plain-string headers (cheap), each cut to the limits first."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        return super().header_fetch_parse(name, bound_header(name, value)[0])


STRUCTURE = _BoundedCompat32()


def _unique(warnings: list[str]) -> list[str]:
    return list(dict.fromkeys(_clean(w) for w in warnings))


def _defect(defect: Exception) -> str:
    return f"{type(defect).__name__}: {defect}" if str(defect) else type(defect).__name__


def _raw(msg: Message, name: str, warnings: list[str]) -> str | None:
    """The first ``name`` field's source value, within the limits (a warning when cut)."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            bounded, why = bound_header(name, str(value))
            if why is not None:
                warnings.append(f"{name}: {why}")
            return bounded
    return None


def _get(msg: Message, name: str, warnings: list[str]) -> Any:
    value = _raw(msg, name, warnings)
    if value is None:
        return None
    try:
        parsed = _RICH.header_factory(name, value)
    except Exception as exc:
        warnings.append(f"{name}: the header could not be parsed ({exc}); ignored")
        return None
    for defect in getattr(parsed, "defects", ()):
        warnings.append(f"{name}: {_defect(defect)}")
    return parsed


def _clean(text: str) -> str:
    """``text`` with raw 8-bit bytes (kept by the parser as lone surrogates) read as UTF-8,
    so every string of a ``Reply`` can be encoded."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _header(msg: Message, name: str, warnings: list[str]) -> str | None:
    value = _get(msg, name, warnings)
    return None if value is None else _clean(" ".join(str(value).split()))


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    found = _MSG_ID.search(value)
    return found.group(0) if found else None


def _addresses(msg: Message, name: str, warnings: list[str]) -> tuple[str, ...]:
    value = _get(msg, name, warnings)
    if value is None:
        return ()
    try:
        found = [a for a in value.addresses if a.addr_spec and a.addr_spec != "<>"]
        return tuple(_clean(str(a) if a.display_name else a.addr_spec) for a in found)
    except Exception as exc:
        warnings.append(f"{name}: the addresses could not be read ({exc}); ignored")
        return ()


def _date(msg: Message, warnings: list[str]) -> datetime | None:
    value = _get(msg, "Date", warnings)
    when = getattr(value, "datetime", None)
    if value is not None and when is None:
        warnings.append(f"Date: {str(value)!r} is not a date; received_at is unknown")
    return _aware(when)


def _aware(when: datetime | None) -> datetime | None:
    if when is not None and when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when
