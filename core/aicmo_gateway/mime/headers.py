"""Header values that carry user text which looks like RFC 2047 encoded words (``=?...?=``).

The standard library treats a value assigned to ``message[name]`` as a raw header and decodes
any encoded word in it, so ``"=?utf-8?q?hi=0D=0ABcc:_x?="`` would reach the wire as two
headers, and a display name ``=?utf-8?q?a=2C_b@x?=`` as an extra recipient. The record fields
are text, never pre-encoded headers: when a value holds ``=?``, it is encoded here, whole, so a
reader decodes it back to exactly the text given (``=?`` and all), and it is stored as a
:class:`Verbatim` header that the generator writes as it is. Values without ``=?`` (nearly
all) go through the standard library unchanged.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from email.header import Header
from email.policy import Policy
from urllib.parse import quote

from aicmo_gateway.mime.render import POLICY
from aicmo_gateway.ports import _validate as v

__all__ = ["Verbatim", "address_list", "disposition", "needs_literal", "text", "word"]

_LINE = 76
#: RFC 5322's limit for a line, without its CRLF
_MAX_OCTETS = 998
#: a display name with one of these is written as a quoted string, which Python may misfold
_QUOTED = frozenset('()<>[]:;@\\,."')
#: octets of text per encoded word: 45 encode to 60 base64 characters, 72 with the markers
_EW_OCTETS = 45


def needs_literal(value: str) -> bool:
    """Whether a mail reader could read an encoded word into ``value``."""
    return "=?" in value


class Verbatim(str):
    """A header whose folded lines were made here; its ``str`` value is the text it carries.

    It quacks like the standard library's header objects (``name``, ``defects``, ``fold``),
    so ``message[name] = Verbatim(...)`` stores it without parsing, and the generator writes
    its lines, joined by the policy's line end, without refolding.
    """

    name: str
    lines: tuple[str, ...]
    #: for address headers: the ``(display name, address)`` pairs the lines carry
    pairs: tuple[tuple[str, str], ...]
    defects: tuple[()] = ()

    def __new__(
        cls,
        name: str,
        value: str,
        lines: Sequence[str],
        *,
        addresses: Sequence[tuple[str, str]] = (),
    ) -> Verbatim:
        self = super().__new__(cls, value)
        self.name = name
        self.lines = tuple(lines)
        self.pairs = tuple(addresses)
        return self

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: " + policy.linesep.join(self.lines) + policy.linesep


def _encoded(value: str, name: str = "") -> list[str]:
    """``value`` as RFC 2047 encoded words (all of it), folded into lines."""
    return Header(value, "utf-8", maxlinelen=_LINE, header_name=name or None).encode().split("\n")


def text(name: str, value: str) -> str:
    """An unstructured header value (Subject, custom headers) that reads back as ``value``.

    An ASCII value of a header other than Subject with a word too long for one line (a URL,
    as in ``List-Unsubscribe``) is folded at its spaces and written as is: the standard
    library would turn such a word into encoded words, which no reader of
    ``List-Unsubscribe`` (RFC 2369) decodes.
    """
    if needs_literal(value):
        return Verbatim(name, value, _encoded(value, name))
    if (
        name.lower() != "subject"  # readers decode a subject's encoded words
        and _long_ascii(name, value)
    ):
        return _folded(name, value)
    return value


def word(name: str, value: str) -> str:
    """A structured one-word-per-item value (Message-ID, References, Content-ID), kept as is.

    Such values cannot be encoded: one that the standard library would write as encoded
    words (text it would misread, or an item too long for a line) is folded at its spaces.
    """
    return _folded(name, value) if needs_literal(value) or _long_ascii(name, value) else value


def _long_ascii(name: str, value: str) -> bool:
    """ASCII with a word too long for the header's first line, yet short enough for a line of
    998 octets: the standard library would turn that word into encoded words. A longer word
    is left to it (encoded words are the only way to fold it within the limit)."""
    if not value.isascii():
        return False
    longest = max((len(w) for w in value.split()), default=0)
    return _LINE - len(name) - 2 < longest <= _MAX_OCTETS - len(name) - 2


def _folded(name: str, value: str) -> Verbatim:
    """``value`` folded at its spaces (a line may exceed 76 octets when one word does)."""
    lines = [""]
    for item in value.split():
        if lines[-1] and len(lines[-1]) + len(item) + 1 > _LINE - len(name):
            lines.append("")
        lines[-1] = f"{lines[-1]} {item}" if lines[-1] else item
    return Verbatim(name, value, [lines[0], *(f" {line}" for line in lines[1:])])


def address_list(name: str, addresses: Sequence[str], field: str) -> str:
    """A comma-separated address header that reads back as exactly these addresses.

    The standard library writes it unless a display name holds ``=?`` or its folding would
    change the addresses (Python 3.11 drops the quotes of a quoted display name it folds,
    so ``"Doe, Jane"`` becomes two addresses, and may encode the comma before a non-ASCII
    name, so two addresses become one): then every display name is written as encoded
    words (readers may differ from the original in whitespace only).
    """
    joined = ", ".join(addresses)
    parsed = [v.parse_address(item, field) for item in addresses]
    # Python 3.11 may also fold a long list before a non-ASCII name with the comma inside an
    # encoded word (``=?utf-8?q?=2C?=``), which joins two addresses into one
    risky = any(ch in _QUOTED for display, _ in parsed for ch in display) or (
        len(parsed) > 1 and not all(display.isascii() for display, _ in parsed)
    )
    if not any(needs_literal(display) for display, _ in parsed) and (
        not risky or _folds_faithfully(name, joined, parsed)
    ):
        return joined
    tokens: list[str] = []
    for i, (display, spec) in enumerate(parsed):
        comma = "," if i < len(parsed) - 1 else ""
        tokens.extend(_phrase(display))
        tokens.append(f"<{spec}>{comma}" if display else f"{spec}{comma}")
    return Verbatim(name, joined, _fill(tokens, len(name) + 2), addresses=parsed)


def _phrase(display: str) -> list[str]:
    """A display name as base64 encoded words of whole words (a longer word is split)."""
    chunks: list[bytes] = []
    for word in display.split(" "):
        data = word.encode("utf-8")
        if chunks and len(chunks[-1]) + 1 + len(data) <= _EW_OCTETS:
            chunks[-1] += b" " + data
            continue
        chunks.append(b"")
        for ch in word:
            octets = ch.encode("utf-8")
            if chunks[-1] and len(chunks[-1]) + len(octets) > _EW_OCTETS:
                chunks.append(b"")
            chunks[-1] += octets
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks if chunk]


def _fill(tokens: list[str], start: int) -> list[str]:
    """Tokens joined by spaces into lines of at most ``_LINE`` characters where possible."""
    lines = [""]
    width = start
    for token in tokens:
        if lines[-1] and width + 1 + len(token) > _LINE:
            lines.append(" ")
            width = 1
        elif lines[-1] and lines[-1] != " ":
            lines[-1] += " "
            width += 1
        lines[-1] += token
        width += len(token)
    return lines


def _folds_faithfully(name: str, value: str, wanted: list[tuple[str, str]]) -> bool:
    """Whether the standard library folds ``value`` into lines that read back as ``wanted``."""
    for policy in (POLICY, POLICY.clone(utf8=True)):
        folded = policy.header_factory(name, value).fold(policy=policy)
        unfolded = folded.partition(":")[2].replace(policy.linesep, "")
        back = policy.header_factory(name, unfolded)
        if [(a.display_name, a.addr_spec) for a in back.addresses] != wanted:
            return False
    return True


def disposition(kind: str, filename: str) -> Verbatim:
    """``Content-Disposition`` with the file name in RFC 2231 form, which no reader decodes
    as encoded words: ``attachment; filename*=utf-8''...`` (continued when long)."""
    encoded = quote(filename, safe="")
    chunks: list[str] = []
    while encoded:
        cut = min(len(encoded), 60)
        while 0 < cut < len(encoded) and "%" in encoded[max(cut - 2, 0) : cut]:
            cut -= 1  # never split a %XX escape
        chunks.append(encoded[:cut])
        encoded = encoded[cut:]
    value = f'{kind}; filename="{filename}"'
    if len(chunks) == 1:
        return Verbatim("Content-Disposition", value, [f"{kind}; filename*=utf-8''{chunks[0]}"])
    lines = [f"{kind};"]
    for i, chunk in enumerate(chunks):
        start = "utf-8''" if i == 0 else ""
        end = ";" if i < len(chunks) - 1 else ""
        lines.append(f" filename*{i}*={start}{chunk}{end}")
    return Verbatim("Content-Disposition", value, lines)
