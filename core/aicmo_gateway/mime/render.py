"""Flatten a built message to bytes and prove its headers are the ones that were set.

``render`` is the last check before a message leaves the process: every sender in the
repository writes the bytes it returns. The checks do not trust the record validators (a
third-party record, a standard-library change or a bug could slip something through):

* no NUL byte, no bare CR or LF (every line ends with the policy's line end);
* no line longer than 998 octets (RFC 5322 section 2.1.1);
* parsed back, the message has the same parts, each with the same header names in the same
  order as the message object (so no injected header, and no blank line that ends a header
  block early or a boundary that splits a part);
* no header holds a control character, raw or in an RFC 2047 encoded word.
"""

from __future__ import annotations

import re
from email import policy as email_policy
from email.message import EmailMessage as MimeMessage
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import Policy
from typing import Any

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports._text import decoded_words, describe, first_control

__all__ = ["MAX_LINE_OCTETS", "POLICY", "SMTP_POLICY", "render"]

#: how messages are built: RFC 5322 with ``\n`` line ends (files), 7-bit safe bodies
POLICY = email_policy.default.clone(cte_type="7bit")
#: the same with ``\r\n`` line ends, for ``render(message, policy=SMTP_POLICY)`` on the wire
SMTP_POLICY = email_policy.SMTP.clone(cte_type="7bit")
#: the longest line RFC 5322 allows, without its line end
MAX_LINE_OCTETS = 998

_BARE_CR = re.compile(rb"\r(?!\n)")
_BARE_LF = re.compile(rb"(?<!\r)\n")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_RAW_PARSER = BytesParser(policy=email_policy.compat32)
_HEADER_PARSER = HeaderParser(policy=email_policy.compat32)
_ADDRESS_HEADERS = (
    "From",
    "Sender",
    "To",
    "Cc",
    "Reply-To",
    "Resent-From",
    "Resent-To",
    "Resent-Cc",
)


def render(message: MimeMessage, *, policy: Policy = POLICY) -> bytes:
    """``message`` flattened with ``policy``, checked as the module says.

    Raises :class:`~aicmo_gateway.errors.InvalidInput` when the message cannot be flattened
    or the result fails a check; nothing else.
    """
    try:
        data = message.as_bytes(policy=policy)
    except Exception as exc:  # whatever the email package raises is bad input
        raise InvalidInput(
            f"the message cannot be rendered as RFC 5322: {type(exc).__name__}: {exc}; "
            "check its header fields for characters that do not belong in mail headers"
        ) from exc
    try:
        problem = _problem(message, data, policy.linesep.encode("ascii"))
    except Exception as exc:  # a message the checks cannot read is not sent either
        problem = f"it could not be read back: {type(exc).__name__}: {exc}"
    if problem is not None:
        raise InvalidInput(
            f"the rendered message failed the header check ({problem}); it was not sent. "
            "Check the message's header fields (subject, names, headers, file names) for "
            "control characters or encoded words"
        )
    return data


def _problem(message: MimeMessage, data: bytes, linesep: bytes) -> str | None:
    if b"\x00" in data:
        return "it contains a NUL byte"
    if linesep == b"\r\n":
        if _BARE_CR.search(data) or _BARE_LF.search(data):
            return "it contains a bare CR or LF"
    elif b"\r" in data:
        return "it contains a CR"
    longest = max(len(line) for line in data.split(linesep))
    if longest > MAX_LINE_OCTETS:
        return f"a line has {longest} octets, more than the {MAX_LINE_OCTETS} RFC 5322 allows"
    built = list(message.walk())
    parsed = list(_RAW_PARSER.parsebytes(data).walk())
    if len(built) != len(parsed):
        return f"it has {len(parsed)} MIME parts where {len(built)} were built"
    for mine, theirs in zip(built, parsed, strict=True):
        problem = _problem_with_part(mine, theirs)
        if problem is not None:
            return problem
    # the top header block as text (8-bit headers are UTF-8 under SMTPUTF8)
    head = data.split(linesep * 2, 1)[0].decode("utf-8", "replace")
    return _problem_with_addresses(message, _HEADER_PARSER.parsestr(head))


def _pairs(header: Any) -> list[tuple[str, str]]:
    """``(display name without whitespace, address)`` pairs: readers differ in whitespace."""
    if getattr(header, "pairs", None):  # a header written verbatim, see mime.headers
        pairs = list(header.pairs)
    else:
        pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
    return [("".join(name.split()), spec) for name, spec in pairs]


def _problem_with_addresses(built: MimeMessage, parsed: Message) -> str | None:
    """Whether every address header reads back as the addresses that were set."""
    for name in _ADDRESS_HEADERS:
        if name not in built:
            continue
        raw = _FOLD.sub("", str(parsed[name]))
        back = _pairs(POLICY.header_factory(name, raw))
        if back != _pairs(built[name]):
            shown = repr(back) if len(repr(back)) <= 200 else repr(back)[:200] + "..."
            return f"the {name} header reads back as other addresses: {shown}"
    return None


def _problem_with_part(built: Message, parsed: Message) -> str | None:
    expected = [name.lower() for name in built]
    found = [name.lower() for name in parsed]
    if expected != found:
        extra = sorted(set(found) - set(expected)) or found
        return f"the headers read back as {found}, not {expected} (unexpected: {extra})"
    if built.get_content_type() != parsed.get_content_type():
        return f"a {built.get_content_type()} part reads back as {parsed.get_content_type()}"
    filename = parsed.get_filename()  # RFC 2231 decoded
    if filename and (ch := first_control(filename)) is not None:
        return f"a file name holds {describe(ch)}"
    for name, raw in parsed.items():
        value = _FOLD.sub("", str(raw))
        ch = next((c for c in value if (c < " " and c != "\t") or c == "\x7f"), None)
        if ch is None:
            ch = next(filter(None, (first_control(word) for word in decoded_words(value))), None)
        if ch is not None:
            return f"the {name} header holds {describe(ch)}"
    return None
