"""Parse received messages into ``Reply`` records, never raising on bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any

from aicmo_gateway.ports import Reply

_MSG_ID = re.compile(r"<[^<>\s]+>")


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        {
            "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
            "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
            "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
        }
    )  # fmt: skip
    _HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Plain text from HTML: tags, scripts and styles dropped, blocks on their own lines."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.chunks).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_reply(
    raw: bytes, *, source_id: str | None = None, received_at: datetime | None = None
) -> Reply:
    """Parse a received message into a :class:`~aicmo_gateway.ports.Reply`.

    Never raises for bad input: malformed headers, unknown charsets and broken
    structure leave what could be read, with a line in ``Reply.warnings`` each.
    ``thread_id`` is the first Message-ID in References, else In-Reply-To, else
    the message's own Message-ID. ``received_at`` defaults to the Date header
    (a date without a zone is taken as UTC).
    """
    warnings: list[str] = []
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; this is a last resort
        return Reply(
            message_id=None,
            sender=None,
            subject="",
            text=raw.decode("utf-8", errors="replace"),
            source_id=source_id,
            received_at=_aware(received_at),
            warnings=[f"the message could not be parsed ({exc}); text is the raw message"],
        )
    warnings.extend(f"message: {_defect(d)}" for d in msg.defects)
    senders = _addresses(msg, "From", warnings)
    message_id = _first_id(_header(msg, "Message-ID", warnings))
    in_reply_to = _first_id(_header(msg, "In-Reply-To", warnings))
    references = tuple(_MSG_ID.findall(_header(msg, "References", warnings) or ""))
    text, html = _bodies(msg, warnings)
    return Reply(
        message_id=message_id,
        sender=senders[0] if senders else None,
        subject=_header(msg, "Subject", warnings) or "",
        text=text,
        html=html,
        to=_addresses(msg, "To", warnings),
        cc=_addresses(msg, "Cc", warnings),
        received_at=_aware(received_at) or _date(msg, warnings),
        in_reply_to=in_reply_to,
        references=references,
        thread_id=(references[0] if references else None) or in_reply_to or message_id,
        source_id=source_id,
        warnings=warnings,
    )


def _defect(defect: Exception) -> str:
    return f"{type(defect).__name__}: {defect}" if str(defect) else type(defect).__name__


def _get(msg: Message, name: str, warnings: list[str]) -> Any:
    try:
        value = msg.get(name)
    except Exception as exc:
        warnings.append(f"{name}: the header could not be parsed ({exc}); ignored")
        return None
    for defect in getattr(value, "defects", ()):
        warnings.append(f"{name}: {_defect(defect)}")
    return value


def _header(msg: Message, name: str, warnings: list[str]) -> str | None:
    value = _get(msg, name, warnings)
    return None if value is None else " ".join(str(value).split())


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
        return tuple(str(a) if a.display_name else a.addr_spec for a in found)
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


def _bodies(msg: Message, warnings: list[str]) -> tuple[str, str | None]:
    try:
        plain = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        rich = msg.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    except Exception as exc:
        warnings.append(f"body: the MIME structure could not be read ({exc})")
        plain = rich = None
    html = _decode(rich, warnings) if rich is not None else None
    if plain is not None:
        return _decode(plain, warnings), html
    if html is not None:
        return html_to_text(html), html
    if not msg.is_multipart() and msg.get_content_maintype() == "text":
        return _decode(msg, warnings), None
    warnings.append("body: the message has no text or HTML part")
    return "", None


def _decode(part: Message, warnings: list[str]) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError) as exc:
        charset = part.get_content_charset() or "us-ascii"
        warnings.append(
            f"body: {part.get_content_type()} in charset {charset!r} could not be decoded "
            f"({type(exc).__name__}); read as UTF-8 with replacement characters"
        )
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return str(part.get_payload())
