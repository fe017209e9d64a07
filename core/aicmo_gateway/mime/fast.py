"""A fast renderer for the common message shapes: the bytes the standard library writes, sooner.

Building an :class:`email.message.EmailMessage` and flattening it costs about 2.5 ms a
message, most of it parsing and refolding headers; :func:`render_simple` writes the same bytes
directly for the shapes it fully understands and returns ``None`` for anything else, so the
caller takes the standard library's path (with its checks). It applies when:

* the policy is one of the four the gateway renders with (:data:`~aicmo_gateway.mime.POLICY`,
  :data:`~aicmo_gateway.mime.SMTP_POLICY`, and their ``utf8=True`` clones);
* there is no attachment (the body is ``text/plain``, ``text/html`` or both as
  ``multipart/alternative``); bodies may hold any text but NUL, and are encoded by the
  standard library's own function (7bit, quoted-printable or base64, as it chooses);
* no header value holds ``=?`` (the standard library's path encodes such text whole);
* unstructured values (subject, custom headers, In-Reply-To, References) of printable ASCII
  words separated by single spaces are folded here as the standard library folds them; any
  other (non-ASCII text, runs of spaces, tabs, a word too long for a line) is folded by the
  standard library's own header code, one header at a time, and its lines are checked as
  :func:`~aicmo_gateway.mime.render` checks headers (continuation lines only, no control
  character raw or in an encoded word, 998 octets at most, ASCII unless SMTPUTF8);
* address headers are ``local@domain`` or ``Name <local@domain>`` items (atoms, or a quoted
  name without backslashes) on one line, and so are Bcc's; the Message-ID is
  ``<dot-atom@dot-atom>`` on one line.

Headers written here from printable ASCII cannot carry a control character, an encoded word or
a line break, so what :func:`~aicmo_gateway.mime.render` checks on the standard library's
output holds by construction; the bodies are checked for NUL and line length all the same.
``tests/test_mime_fast.py`` compares both paths' bytes over a generated corpus.
"""

from __future__ import annotations

import random
import re
import sys
from datetime import datetime
from email import contentmanager
from email.policy import EmailPolicy, Policy
from email.utils import format_datetime
from typing import Any

from aicmo_gateway.mime import headers
from aicmo_gateway.mime.render import MAX_LINE_OCTETS, POLICY, SMTP_POLICY
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.ports._text import decoded_words, first_control, problem_with_header_text

__all__ = ["FAST_POLICIES", "UTF8_POLICY", "UTF8_SMTP_POLICY", "render_simple"]

#: ``SMTP_POLICY`` for SMTPUTF8 transactions (and its file twin)
UTF8_SMTP_POLICY = SMTP_POLICY.clone(utf8=True)
UTF8_POLICY = POLICY.clone(utf8=True)
#: the policies the fast path renders for (or equal clones of them)
FAST_POLICIES = (POLICY, SMTP_POLICY, UTF8_POLICY, UTF8_SMTP_POLICY)

#: digits in a boundary's random token, as ``email.generator`` counts them
_WIDTH = len(repr(sys.maxsize - 1))
#: the line length the standard library folds headers at with these policies
_MAX = POLICY.max_line_length or sys.maxsize
#: the standard library's body encoder (7bit, quoted-printable or base64 by its heuristics);
#: private but stable since Python 3.6. Without it there is no fast path.
_encode_text = getattr(contentmanager, "_encode_text", None)

#: header names the standard library parses as structured (their folding differs)
_STRUCTURED = frozenset(POLICY.header_factory.registry)  # type: ignore[attr-defined]

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_SPEC = rf"{_DOT_ATOM}@{_DOMAIN}"
#: ``local@domain``, ``Name Words <local@domain>`` or ``"Quoted, Name" <local@domain>``
_ADDRESS = re.compile(
    rf'(?:(?:{_ATEXT}+(?: {_ATEXT}+)*|"[ !#-\[\]-~]*[!#-\[\]-~][ !#-\[\]-~]*") <{_SPEC}>|{_SPEC})'
)
_MSG_ID = re.compile(rf"<{_DOT_ATOM}@{_DOT_ATOM}>")
#: printable ASCII words separated by single spaces
_WORDS = re.compile(r"[!-~]+(?: [!-~]+)*")
_HEADER_NAME = re.compile(r"[!-9;-~]+")


def render_simple(
    message: EmailMessage,
    sender: str,
    message_id: str,
    date: datetime,
    policy: Policy,
) -> bytes | None:
    """``message`` flattened with ``policy`` as the standard library would, or ``None``.

    ``sender`` is the From address and ``message_id`` the Message-ID, both already chosen
    (see :func:`~aicmo_gateway.mime.render_message`). ``None`` means the message is not one of
    the shapes this module knows: render it with the standard library instead.
    """
    known = _known(policy)
    if known is None or message.attachments or _encode_text is None:
        return None
    nl = known.linesep
    if not all(_ADDRESS.fullmatch(item) for item in message.bcc):
        return None  # the others are checked as their headers are written
    head = _headers(message, sender, message_id, date, known)
    if head is None:
        return None
    flat: str | None
    if message.text is not None:
        text = _part("plain", message.text, nl)
        if text is None:
            return None
        if message.html is None:
            flat = _single(text, head, nl)
        else:
            html = _part("html", message.html, nl)
            if html is None:
                return None
            flat = _alternative(text, html, head, nl)
    else:
        html = _part("html", message.html or "", nl)
        flat = None if html is None else _single(html, head, nl)
    # headers are UTF-8 under SMTPUTF8 (policy.utf8), else ASCII; the bodies are ASCII
    return None if flat is None else flat.encode("utf-8" if known.utf8 else "ascii")


def _known(policy: Policy) -> EmailPolicy[Any] | None:
    """The one of the :data:`FAST_POLICIES` that ``policy`` is (or equals), else ``None``."""
    for known in FAST_POLICIES:
        if policy is known or (type(policy) is type(known) and vars(policy) == vars(known)):
            return known
    return None


def _single(part: tuple[str, str], head: list[str], nl: str) -> str:
    part_head, body = part
    return f"{part_head}MIME-Version: 1.0{nl}{nl.join(head)}{nl}{nl}{body}"


def _alternative(
    text: tuple[str, str], html: tuple[str, str], head: list[str], nl: str
) -> str | None:
    parts = (text[0] + nl + text[1], html[0] + nl + html[1])
    # the standard library's boundary, drawn the same way (Generator._make_boundary)
    token = random.randrange(sys.maxsize)  # noqa: S311 - as the stdlib; collisions are checked
    boundary = "=" * 15 + f"{token:0{_WIDTH}d}" + "=="
    if boundary in parts[0] or boundary in parts[1]:
        return None  # the standard library would pick another: let it
    return (
        f"MIME-Version: 1.0{nl}Content-Type: multipart/alternative;{nl}"
        f' boundary="{boundary}"{nl}{nl.join(head)}{nl}{nl}'
        f"--{boundary}{nl}{parts[0]}{nl}--{boundary}{nl}{parts[1]}{nl}--{boundary}--{nl}"
    )


def _part(subtype: str, content: str, nl: str) -> tuple[str, str] | None:
    """A text part's own headers (with the blank line's first half) and its encoded body."""
    assert _encode_text is not None
    cte, payload = _encode_text(content, "utf-8", None, POLICY)
    if "\x00" in payload or "\r" in payload:
        return None  # refused (NUL) or unusual: the standard library path decides
    if max(map(len, payload.split("\n"))) > MAX_LINE_OCTETS:
        return None
    if nl != "\n":
        payload = payload.replace("\n", nl)
    head = f'Content-Type: text/{subtype}; charset="utf-8"{nl}Content-Transfer-Encoding: {cte}{nl}'
    return head, payload


def _headers(
    message: EmailMessage, sender: str, message_id: str, date: datetime, policy: EmailPolicy[Any]
) -> list[str] | None:
    """The top header lines (folded lines as lines) after MIME-Version and Content-Type."""
    lines: list[str] = []
    for name, items in (
        ("From", (sender,)),
        ("To", message.to),
        ("Cc", message.cc),
        ("Reply-To", message.reply_to),
    ):
        if items:
            line = _addresses(name, items)
            if line is None:
                return None
            lines.append(line)
    subject = _unstructured("Subject", message.subject, policy)
    if subject is None or not isinstance(date, datetime):
        return None
    lines.extend(subject)
    lines.append(f"Date: {format_datetime(date)}")
    if not _MSG_ID.fullmatch(message_id) or "=?" in message_id or len(message_id) > _MAX - 12:
        return None
    lines.append(f"Message-ID: {message_id}")
    if message.in_reply_to:
        folded = _unstructured("In-Reply-To", message.in_reply_to, policy)
        if folded is None:
            return None
        lines.extend(folded)
    if message.references:
        folded = _unstructured("References", " ".join(message.references), policy)
        if folded is None:
            return None
        lines.extend(folded)
    for name, value in message.headers:
        if not _HEADER_NAME.fullmatch(name) or name.lower() in _STRUCTURED:
            return None
        folded = _unstructured(name, value, policy)
        if folded is None:
            return None
        lines.extend(folded)
    return lines


def _addresses(name: str, items: tuple[str, ...] | list[str]) -> str | None:
    """``Name: a, b`` when every item is a simple address and the line fits, else ``None``."""
    for item in items:
        if not _ADDRESS.fullmatch(item) or "=?" in item:
            return None
    line = f"{name}: {', '.join(items)}"
    return line if len(line) <= _MAX else None


def _unstructured(name: str, value: str, policy: EmailPolicy[Any]) -> list[str] | None:
    """An unstructured header's folded lines, as the standard library writes them, or ``None``.

    Printable ASCII words separated by single spaces are folded here; any other value
    (non-ASCII text, runs of spaces, tabs, a word too long for a line) by the standard
    library's own header folding, whose lines are then checked as ``render`` checks them.
    A value holding ``=?`` is not taken (the standard library's path encodes it whole).
    """
    if "=?" in value:
        return None
    literal = headers.text(name, value)
    if isinstance(literal, headers.Verbatim):  # a long ASCII word (a URL), folded at spaces
        kept = [f"{name}: {literal.lines[0]}", *literal.lines[1:]]
        return kept if all(len(line) <= MAX_LINE_OCTETS for line in kept) else None
    if _WORDS.fullmatch(value):
        lines = _fill(name, value)
        if lines is not None:
            return lines
    return _folded_by_the_standard_library(name, value, policy)


def _fill(name: str, value: str) -> list[str] | None:
    """Printable ASCII words folded as the standard library folds them, or ``None``.

    A value too long for the name's line but short enough for a line of its own goes there.
    Otherwise greedy: a word goes on the current line when it fits with its space, else on a
    new line that starts with the space. A word too long for a line of its own is left to the
    standard library (it encodes such words).
    """
    line = f"{name}: {value}"
    if len(line) <= _MAX:
        return [line]
    if len(value) + 1 <= _MAX:
        return [f"{name}:", f" {value}"]
    words = value.split(" ")
    lines = [f"{name}: {words[0]}"]
    if len(lines[0]) > _MAX:
        return None
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) <= _MAX:
            lines[-1] += " " + word
        elif len(word) + 1 <= _MAX:
            lines.append(" " + word)
        else:
            return None
    return lines


def _folded_by_the_standard_library(
    name: str, value: str, policy: EmailPolicy[Any]
) -> list[str] | None:
    """One header folded by ``email.headerregistry``, as the generator folds it, if it is safe.

    Checked as :func:`~aicmo_gateway.mime.render` checks headers: the value is header text the
    records accept; every line after the first is a continuation (starts with a space or a
    tab), holds no control character, fits in 998 octets, and is ASCII unless ``policy.utf8``;
    no encoded word decodes to a control character.
    """
    if problem_with_header_text(value) is not None:
        return None
    folded: str = POLICY.header_factory(name, value).fold(policy=policy)
    nl = policy.linesep
    if not folded.endswith(nl):
        return None
    lines = folded[: -len(nl)].split(nl)
    if not lines[0].startswith(f"{name}:"):
        return None
    if any(line[:1] not in (" ", "\t") for line in lines[1:]):
        return None
    text = "".join(lines)
    if first_control(text.replace("\t", " ")) is not None or not (policy.utf8 or text.isascii()):
        return None
    if any(len(line.encode("utf-8")) > MAX_LINE_OCTETS for line in lines):
        return None
    if any(first_control(word) is not None for word in decoded_words(text)):
        return None
    return lines
