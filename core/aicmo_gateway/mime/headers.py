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

from collections.abc import Sequence
from email.header import Header
from email.policy import Policy
from email.utils import formataddr
from urllib.parse import quote

from aicmo_gateway.ports import _validate as v

__all__ = ["Verbatim", "address_list", "disposition", "needs_literal", "text", "word"]

_LINE = 76


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
    defects: tuple[()] = ()

    def __new__(cls, name: str, value: str, lines: Sequence[str]) -> Verbatim:
        self = super().__new__(cls, value)
        self.name = name
        self.lines = tuple(lines)
        return self

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: " + policy.linesep.join(self.lines) + policy.linesep


def _encoded(value: str, name: str = "") -> list[str]:
    """``value`` as RFC 2047 encoded words (all of it), folded into lines."""
    return Header(value, "utf-8", maxlinelen=_LINE, header_name=name or None).encode().split("\n")


def text(name: str, value: str) -> str:
    """An unstructured header value (Subject, custom headers) that reads back as ``value``."""
    return Verbatim(name, value, _encoded(value, name)) if needs_literal(value) else value


def word(name: str, value: str) -> str:
    """A structured one-word-per-item value (Message-ID, References, Content-ID), kept as is.

    Such values cannot be encoded; written verbatim the standard library cannot decode them.
    """
    if not needs_literal(value):
        return value
    lines = [""]
    for item in value.split():
        if lines[-1] and len(lines[-1]) + len(item) + 1 > _LINE - len(name):
            lines.append("")
        lines[-1] = f"{lines[-1]} {item}" if lines[-1] else item
    return Verbatim(name, value, [lines[0], *(f" {line}" for line in lines[1:])])


def address_list(name: str, addresses: Sequence[str], field: str) -> str:
    """A comma-separated address header; display names holding ``=?`` are encoded whole."""
    joined = ", ".join(addresses)
    parsed = [v.parse_address(item, field) for item in addresses]
    if not any(needs_literal(display) for display, _ in parsed):
        return joined
    lines: list[str] = []
    for i, (display, spec) in enumerate(parsed):
        comma = "," if i < len(parsed) - 1 else ""
        if needs_literal(display):
            encoded = _encoded(display, name if i == 0 else "")
            item = [*encoded[:-1], f"{encoded[-1]} <{spec}>{comma}"]
        else:
            item = [formataddr((display, spec)) + comma]
        lines.extend(item if i == 0 else [f" {line.lstrip()}" for line in item])
    return Verbatim(name, joined, lines)


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
