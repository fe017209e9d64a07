"""Validators shared by the port records: addresses, header values, strings, mappings.

Each takes the value and the name of the field it is for (``"EmailMessage.cc[1]"``) and
returns the value normalised, or raises :class:`InvalidInput` naming the field and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from email.utils import parseaddr
from types import MappingProxyType
from typing import Any, TypeAlias

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports._text import problem_with_body, problem_with_header_text

#: what a field taking "one address or several" accepts
Addresses: TypeAlias = str | Iterable[str] | None
#: what a field taking "one string or several" accepts
Strings: TypeAlias = str | Iterable[str] | None

#: every character ``str.splitlines`` breaks on; the ``email`` package refuses them in headers
LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_LOCAL_FORBIDDEN = frozenset(' \t()<>[]:;,@\\"')
#: a display name with one of these is written in double quotes (as ``formataddr`` does)
_NAME_SPECIALS = frozenset('()<>[]:;@\\,."')
#: an unquoted display name may not hold these ('.' is tolerated: "John Q. Public")
_UNQUOTED_NAME_FORBIDDEN = _NAME_SPECIALS - {"."}
_ADDRESS_FORMS = "use the form 'name@example.com' or 'Name <name@example.com>'"


def has_line_break(text: str) -> bool:
    return any(ch in LINE_BREAKS for ch in text)


def problem_with_domain(domain: str) -> str | None:
    """Why ``domain`` is not a usable mail domain, or ``None`` when it is."""
    if not domain:
        return "the domain is empty"
    if any(ch.isspace() for ch in domain):
        return f"the domain {domain!r} contains a space"
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return f"the domain {domain!r} has a misplaced '.'"
    labels = domain.split(".")
    if len(labels) < 2:
        return f"the domain {domain!r} has no '.' (a full domain such as example.com is needed)"
    ascii_length = len(labels) - 1
    for label in labels:
        try:
            ascii_label = label if label.isascii() else label.encode("idna").decode("ascii")
        except UnicodeError:
            return f"the domain label {label!r} is not a valid internationalised name"
        if not _LABEL.match(ascii_label):
            return (
                f"the domain label {label!r} is not valid "
                "(letters, digits and '-', not at either end, at most 63 characters)"
            )
        ascii_length += len(ascii_label)
    if ascii_length > 253:
        return "the domain is longer than 253 characters"
    return None


def _problem_with_addr_spec(addr: str) -> str | None:
    if not addr:
        return "it is empty"
    at_signs = addr.count("@")
    if at_signs == 0:
        return "it has no '@'"
    if at_signs > 1:
        several = " (for several addresses pass a list)" if "," in addr or ";" in addr else ""
        return f"it has {at_signs} '@' signs where one is needed{several}"
    local, domain = addr.split("@")
    if not local:
        return "the part before '@' is empty"
    if len(local) > 64:
        return "the part before '@' is longer than 64 characters"
    if any(
        ch in _LOCAL_FORBIDDEN or ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in local
    ):
        return "the part before '@' contains a space or a special character"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before '@' has a misplaced '.'"
    if not domain:
        return "the domain after '@' is empty"
    return problem_with_domain(domain)


def _unquote(quoted: str) -> str | None:
    """The content of a quoted display name, or ``None`` when the quoting is broken."""
    chars: list[str] = []
    escaped = False
    for ch in quoted[1:-1]:
        if escaped:
            chars.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            return None
        else:
            chars.append(ch)
    return None if escaped else "".join(chars)


def _split(text: str) -> tuple[str, str] | str:
    """``(display name, addr-spec)``, or a problem in words."""
    if not text.endswith(">"):
        if "<" in text or ">" in text:
            return "it has a '<' or '>' out of place"
        if "(" in text or ")" in text:
            return "it has a comment in parentheses (write a name as 'Name <name@example.com>')"
        return "", text
    start = text.rfind("<")
    if start < 0:
        return "it has a '>' without a matching '<'"
    raw_name, spec = text[:start].strip(), text[start + 1 : -1].strip()
    if len(raw_name) >= 2 and raw_name[0] == raw_name[-1] == '"':
        quoted = _unquote(raw_name)
        if quoted is None:
            return "the quoted display name has a stray '\"' or '\\'"
        name = quoted if quoted.strip() else ""
    elif any(ch in _UNQUOTED_NAME_FORBIDDEN for ch in raw_name):
        return (
            "the display name has a special character; put it in double quotes, "
            "e.g. '\"Doe, Jane\" <jane@example.com>'"
        )
    else:
        name = " ".join(raw_name.split())
    return name, spec


def _format(name: str, spec: str) -> str:
    if not name:
        return spec
    if any(ch in _NAME_SPECIALS for ch in name) or name != " ".join(name.split()):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{spec}>'
    return f"{name} <{spec}>"


def parse_address(value: Any, field: str) -> tuple[str, str]:
    """Validate one address; return ``(display name, addr-spec)``, the name possibly empty."""
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field}: expected an email address as a string, got {type(value).__name__}",
            field=field,
        )
    if has_line_break(value):
        raise InvalidInput(
            f"{field}: an address may not contain a line break (CR, LF or another line "
            "separator); pass one address per item",
            field=field,
        )
    parsed = _split(value.strip())
    problem: str | None
    if isinstance(parsed, str):
        problem = parsed
    else:
        problem = _problem_with_addr_spec(parsed[1])
        if problem is None and (spec_problem := problem_with_header_text(parsed[1])):
            problem = f"the address is not header-safe: {spec_problem}"
        if problem is None and (name_problem := problem_with_header_text(parsed[0])):
            problem = f"the display name is not header-safe: {name_problem}"
        # the normalised form must read back the same: no silent reinterpretation
        if problem is None and parseaddr(_format(*parsed)) == parsed:
            return parsed
        problem = problem or "it could not be parsed"
    raise InvalidInput(
        f"{field}: {_shown(value)} is not a valid email address: {problem}; {_ADDRESS_FORMS}",
        field=field,
    )


def address(value: Any, field: str) -> str:
    """Validate one address (``a@b.com`` or ``Name <a@b.com>``); return it normalised."""
    return _format(*parse_address(value, field))


def bare_address(value: Any, field: str) -> str:
    """Validate one address; return only its ``local@domain`` part."""
    return parse_address(value, field)[1]


def optional_address(value: Any, field: str) -> str | None:
    return None if value is None else address(value, field)


def items_of(value: Any, field: str, what: str) -> list[Any]:
    """The items of a list-like ``value``; a string, bytes or mapping is refused."""
    if type(value) is tuple or type(value) is list:  # the common case, without ABC checks
        return list(value)
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidInput(
            f"{field}: expected {what}, got {type(value).__name__}",
            field=field,
        )
    return list(value)


def addresses(value: Any, field: str) -> tuple[str, ...]:
    """Validate a single address or an iterable of them; return a tuple."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (address(value, field),) if value.strip() else ()
    items = items_of(value, field, "an address or a list of addresses")
    return tuple(address(item, f"{field}[{i}]") for i, item in enumerate(items))


def header_value(value: Any, field: str) -> str:
    """A header-safe single-line string (see :func:`~._text.problem_with_header_text`)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected a string, got {type(value).__name__}", field=field)
    if has_line_break(value):
        raise InvalidInput(
            f"{field}: {_shown(value)} contains a line break (CR, LF or another line "
            "separator), which could inject headers; remove the line breaks",
            field=field,
        )
    problem = problem_with_header_text(value)
    if problem is not None:
        raise InvalidInput(f"{field}: {_shown(value)} is not header-safe: {problem}", field=field)
    return value


def _shown(value: str) -> str:
    """``value`` for an error message: quoted, and cut short when long."""
    return repr(value) if len(value) <= 80 else repr(value[:60]) + f"... ({len(value)} characters)"


def body(value: str | None, field: str) -> str | None:
    """A message body: any text but NUL and lone surrogates (line ends are normalised later)."""
    problem = None if value is None else problem_with_body(value)
    if problem is not None:
        raise InvalidInput(f"{field}: {problem}", field=field)
    return value


def optional_header(value: Any, field: str) -> str | None:
    return None if value is None else header_value(value, field)


_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':'


def headers(value: Any, field: str) -> tuple[tuple[str, str], ...]:
    """Extra headers from a mapping or pairs; names and values are checked."""
    if value is None:
        return ()
    pairs = value.items() if isinstance(value, Mapping) else items_of(value, field, "a mapping")
    result = []
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise InvalidInput(
                f"{field}: {pair!r} is not a (name, value) pair; pass a mapping such as "
                "{'X-Campaign': 'spring'}",
                field=field,
            )
        name, val = pair
        if not isinstance(name, str) or not _HEADER_NAME.match(name) or len(name) > 76:
            raise InvalidInput(
                f"{field}: {_shown(name) if isinstance(name, str) else repr(name)} is not a valid "
                "header name "
                "(1 to 76 characters of printable ASCII without spaces or ':')",
                field=field,
            )
        result.append((name, header_value(val, f"{field}[{name!r}]")))
    return tuple(result)


def non_empty(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field}: expected a non-empty string, got {type(value).__name__}", field=field
        )
    if not value.strip():
        raise InvalidInput(f"{field}: is empty; pass a non-empty string", field=field)
    return value


def text_tuple(value: Any, field: str) -> tuple[str, ...]:
    """A tuple of strings; a single string is one item (not split into characters)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    items = items_of(value, field, "a string or a list of strings")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidInput(
                f"{field}[{i}]: expected a string, got {type(item).__name__}", field=f"{field}[{i}]"
            )
    return tuple(items)


def file_name(value: Any, field: str) -> str:
    """A bare file name: non-empty, one line, no directory part."""
    name = header_value(non_empty(value, field), field)
    if "/" in name or "\\" in name:
        raise InvalidInput(
            f"{field}: {name!r} contains a path separator; pass the bare file name", field=field
        )
    if name.strip() in (".", ".."):
        raise InvalidInput(f"{field}: {name!r} is not a file name", field=field)
    return name


_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def mime_type(value: Any, field: str) -> str:
    """A ``type/subtype`` MIME type, lower-cased; ``""`` means "guess from the file name"."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected a string, got {type(value).__name__}", field=field)
    text = value.strip().lower()
    if text and not _MIME_TYPE.match(text):
        raise InvalidInput(
            f"{field}: {value!r} is not a MIME type; pass one such as 'application/pdf' "
            "(without parameters), or leave it out to guess from the file name",
            field=field,
        )
    return text


def frozen_mapping(value: Any, field: str) -> Mapping[str, Any]:
    """A read-only copy of a mapping with string keys."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field}: expected a mapping, got {type(value).__name__}", field=field)
    for key in value:
        if not isinstance(key, str):
            raise InvalidInput(f"{field}: keys must be strings, got {key!r}", field=field)
    return MappingProxyType(dict(value))
