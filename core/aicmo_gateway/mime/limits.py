"""The work limits of :func:`~aicmo_gateway.mime.parse_reply`, and the cuts that keep to them.

The standard library's header parser takes time that grows faster than the
header: one 223 KiB ``Content-Type`` with 16,000 RFC 2231 continuations took
34 s. So no header value reaches it whole when it is over a limit: it is cut
at the last separator under the limit (a comma between addresses, a semicolon
between parameters, else a space), and the reply gets a warning naming the
header and the limit. The MIME structure is bounded the same way: the message
is cut before its ``MAX_MULTIPARTS + 1``-th multipart declaration, and at most
``MAX_PARTS`` parts are looked at for the text and HTML bodies.

The limits are far above what real mail needs (docs/user-guide.md, "Replies
from strangers").
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_ADDRESSES",
    "MAX_HEADER_CHARS",
    "MAX_MULTIPARTS",
    "MAX_PARAMETERS",
    "MAX_PARTS",
    "bound_header",
    "bound_structure",
]

#: the characters of one header field's value (unfolded) handed to the header parser
MAX_HEADER_CHARS = 16_384
#: parameters of one ``Content-Type`` or ``Content-Disposition`` (each RFC 2231 section counts)
MAX_PARAMETERS = 64
#: addresses read from one address header (``From``, ``To``, ``Cc``, ...)
MAX_ADDRESSES = 1_000
#: multipart containers (``boundary=`` declarations) read; the message is cut before the next
MAX_MULTIPARTS = 16
#: MIME parts looked at when searching the text and HTML bodies
MAX_PARTS = 1_000

_ADDRESS_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc"}
)
_PARAMETER_HEADERS = frozenset({"content-type", "content-disposition"})
_FOLD = re.compile(r"\r\n|\r|\n")
_BOUNDARY = re.compile(rb"boundary\s*\*?\d*\*?\s*=", re.IGNORECASE)


def _cut(value: str, separator: str, count: int) -> str:
    """``value`` up to (not including) its ``count``-th ``separator``."""
    at = -1
    for _ in range(count):
        at = value.find(separator, at + 1)
        if at < 0:
            return value
    return value[:at]


def bound_header(name: str, value: str) -> tuple[str, str | None]:
    """The unfolded ``value`` within the limits, and why it was cut (``None``: it was not)."""
    value = _FOLD.sub("", value)
    key = name.lower()
    why = None
    if key in _ADDRESS_HEADERS and value.count(",") >= MAX_ADDRESSES:
        value = _cut(value, ",", MAX_ADDRESSES)
        why = f"more than {MAX_ADDRESSES:,} addresses; only the first {MAX_ADDRESSES:,} were read"
    elif key in _PARAMETER_HEADERS and value.count(";") > MAX_PARAMETERS:
        value = _cut(value, ";", MAX_PARAMETERS + 1)
        why = (
            f"more than {MAX_PARAMETERS} parameters (RFC 2231 sections count); "
            f"only the first {MAX_PARAMETERS} were read"
        )
    if len(value) > MAX_HEADER_CHARS:
        head = value[:MAX_HEADER_CHARS]
        separator = "," if key in _ADDRESS_HEADERS else ";" if key in _PARAMETER_HEADERS else " "
        at = head.rfind(separator)
        value = head[:at] if at > 0 else head
        long = f"longer than {MAX_HEADER_CHARS:,} characters; only the start was read"
        why = long if why is None else f"{why}; {long}"
    return value, why


def bound_structure(raw: bytes) -> tuple[bytes, str | None]:
    """``raw`` cut before the line of its ``MAX_MULTIPARTS + 1``-th ``boundary=`` declaration.

    Each open multipart makes the parser test every later line against its boundary,
    so deep nesting costs lines x depth; past the limit the rest is not read.
    """
    found = None
    for count, found in enumerate(_BOUNDARY.finditer(raw), start=1):  # noqa: B007
        if count > MAX_MULTIPARTS:
            break
    else:
        return raw, None
    assert found is not None
    line_start = max(raw.rfind(b"\n", 0, found.start()), raw.rfind(b"\r", 0, found.start())) + 1
    return raw[:line_start], (
        f"more than {MAX_MULTIPARTS} multipart containers; the message was read up to "
        f"byte {line_start:,} of {len(raw):,}"
    )
