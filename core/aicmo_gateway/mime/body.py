"""Find and decode the text and HTML bodies of a parsed message, within the part limit.

The search follows the standard library's ``EmailMessage.get_body``: parts
marked as attachments are skipped, multiparts are searched depth first (a
``multipart/related`` only through its start part) and other containers are
not entered. It walks with an explicit stack instead of recursion and stops
after ``MAX_PARTS`` parts, so no structure costs more than that.
"""

from __future__ import annotations

import codecs
from email.message import Message

from aicmo_gateway.mime.limits import MAX_PARTS, bound_header
from aicmo_gateway.mime.text import html_to_text

__all__ = ["bodies"]

#: codecs that are not mail charsets and decode in more than linear time
_REFUSED_CODECS = frozenset({"punycode", "idna"})


def bodies(msg: Message, warnings: list[str]) -> tuple[str, str | None]:
    """The text (from the HTML when there is no text part) and the HTML, if any."""
    plain, rich = _find(msg, warnings)
    html = _decode(rich, warnings) if rich is not None else None
    if plain is not None:
        return _decode(plain, warnings), html
    if html is not None:
        return html_to_text(html), html
    if not msg.is_multipart() and msg.get_content_maintype() == "text":
        return _decode(msg, warnings), None
    warnings.append("body: the message has no text or HTML part")
    return "", None


def _find(msg: Message, warnings: list[str]) -> tuple[Message | None, Message | None]:
    """The first ``text/plain`` and the first ``text/html`` body part."""
    found: dict[str, Message] = {}
    stack = [msg]
    looked = 0
    while stack and len(found) < 2:
        part = stack.pop()
        looked += 1
        if looked > MAX_PARTS:
            warnings.append(
                f"body: the message has more than {MAX_PARTS:,} MIME parts; "
                f"only the first {MAX_PARTS:,} were searched for the text"
            )
            break
        _note_cuts(part, warnings)
        if part.get_content_disposition() == "attachment":
            continue
        maintype, subtype = part.get_content_maintype(), part.get_content_subtype()
        if maintype == "text":
            if subtype in ("plain", "html"):
                found.setdefault(subtype, part)
            continue
        payload = part.get_payload()
        if maintype != "multipart" or not isinstance(payload, list) or not payload:
            continue
        parts = [child for child in payload if isinstance(child, Message)]
        children = [_start(part, parts)] if subtype == "related" and parts else parts
        stack.extend(reversed(children))
    return found.get("plain"), found.get("html")


def _note_cuts(part: Message, warnings: list[str]) -> None:
    """A warning for each structure header of ``part`` that was cut to the limits."""
    for name, value in part.raw_items():
        if name.lower() in ("content-type", "content-disposition"):
            why = bound_header(name, str(value))[1]
            if why is not None:
                warnings.append(f"{name}: {why}")


def _start(related: Message, parts: list[Message]) -> Message:
    """The start part of a ``multipart/related``: its ``start`` parameter, else the first."""
    start = related.get_param("start")
    if isinstance(start, str) and start:
        for part in parts[:MAX_PARTS]:
            if part.get("Content-ID") == start:
                return part
    return parts[0]


def _charset(part: Message) -> str:
    charset = part.get_content_charset() or "ascii"
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return charset
    return charset if name not in _REFUSED_CODECS else f"{charset} (not a mail charset)"


def _decode(part: Message, warnings: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = _charset(part)
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError) as exc:
        warnings.append(
            f"body: {part.get_content_type()} in charset {charset!r} could not be decoded "
            f"({type(exc).__name__}); read as UTF-8 with replacement characters"
        )
    return payload.decode("utf-8", errors="replace")
