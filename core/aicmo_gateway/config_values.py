"""Reading one config value, and showing one in a message.

The rules every reader of a config shares (the loader, the chain and provider policies, the
health policy, the settings check): text resolved from ``${VAR}`` references remembers the
text as written (:class:`EnvText`) and :func:`shown` is how any value appears in a message, so
an error never prints what came from the environment; numbers are read against a declared
:class:`Range` (finite, whole where they count, within bounds); durations, true/false words
and nesting depth are read here and nowhere else.

Imports only :mod:`aicmo_gateway.secret` from the rest of the package.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from aicmo_gateway.secret import Secret

__all__ = [
    "FALSE_WORDS",
    "MAX_DEPTH",
    "MAX_SECONDS",
    "OFF_WORDS",
    "TRUE_WORDS",
    "BadValue",
    "EnvText",
    "Range",
    "hide_env_values",
    "key_part",
    "parse_duration",
    "plain",
    "read_bool",
    "read_number",
    "shown",
    "too_deep",
    "truth_word",
]

#: words read as true or false: environment switches and ``${VAR}`` values of boolean keys
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
#: how a config file (TOML has no null) switches a setting off
OFF_WORDS = ("off", "none")
#: the longest duration any key accepts: seven days
MAX_SECONDS = 7 * 86400.0
#: tables and arrays nested deeper than this are refused (a real config needs about five)
MAX_DEPTH = 32
#: a value longer than this is shortened in messages
_SHOWN_CHARS = 80
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_VAR_NAME = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


class EnvText(str):
    """A string resolved from ``${VAR}`` references, remembering the text as written.

    It is the resolved value for every use except display: ``repr()`` and formatting
    (f-strings, ``format``) give the reference (``'${REDIS_URL}'``), so a message cannot show
    what came from the environment. ``str(value)`` gives a plain ``str`` of the value, for
    handing to a provider.
    """

    reference: str

    def __new__(cls, value: str, reference: str) -> EnvText:
        text = super().__new__(cls, value)
        text.reference = reference
        return text

    def __repr__(self) -> str:
        return repr(self.reference)

    def __format__(self, spec: str) -> str:
        return format(self.reference, spec)

    def __reduce__(self) -> Any:
        return (EnvText, (str(self), self.reference))

    @property
    def variables(self) -> list[str]:
        """The variables named in the reference, in order."""
        return _VAR_NAME.findall(self.reference)


def plain(value: Any) -> Any:
    """``value`` with every :class:`EnvText` (also inside lists) turned into a plain ``str``."""
    if isinstance(value, EnvText):
        return str(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _text(value: str | bytes) -> str:
    """``repr()`` of a string, shortened to one readable piece when it is long."""
    if len(value) <= _SHOWN_CHARS:
        return repr(value)
    head, tail = repr(value[: _SHOWN_CHARS - 10]), repr(value[-3:])
    tail = tail[tail.index(tail[-1]) + 1 :]  # without the b prefix and the opening quote
    return f"{head[:-1]}...{tail} ({len(value)} characters)"


def shown(value: Any, *, _depth: int = 0) -> str:
    """How a config value appears in a message: the one formatter every message uses.

    A value from the environment shows as its reference (``'${REDIS_URL}'``), a secret as
    ``********``; long text is shortened and nesting cut off, so a message stays one line.
    """
    if isinstance(value, EnvText):
        return _text(value.reference)
    if isinstance(value, Secret):
        return str(value)  # the mask
    if isinstance(value, str | bytes):
        return _text(value)
    if isinstance(value, list | tuple | set | frozenset | Mapping):
        if _depth >= 2:
            return "{...}" if isinstance(value, Mapping) else "[...]"
        first = list(itertools.islice(value.items() if isinstance(value, Mapping) else value, 5))
        if isinstance(value, Mapping):
            inner = [f"{shown(k, _depth=2)}: {shown(v, _depth=_depth + 1)}" for k, v in first]
            opening, closing = "{", "}"
        else:
            inner = [shown(v, _depth=_depth + 1) for v in first]
            opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        if len(value) > 5:
            inner.append(f"... {len(value) - 5} more")
        return opening + ", ".join(inner) + closing
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a whole number of about {int(value.bit_length() * math.log10(2))} digits"
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    return f"a value of type {type(value).__name__}"


def key_part(name: Any) -> str:
    """A table or key name as it appears in a dotted key of a message."""
    if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        return name
    return shown(name)


class BadValue(ValueError):
    """A value a config key does not accept: what is wrong and the fix."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


@attrs.frozen
class Range:
    """The values a numeric key accepts: finite, from ``low`` to ``high``.

    ``whole``: integers only (counts); ``above``: ``low`` itself is refused; ``off``: the
    words ``"off"``/``"none"`` (and ``None`` in a mapping) switch the setting off;
    ``seconds``: a duration, also written ``"500ms"``, ``"30s"``, ``"2m"`` or ``"1h"``.
    """

    low: float
    high: float
    whole: bool = False
    above: bool = False
    off: bool = False
    seconds: bool = False

    def allowed(self) -> str:
        """The range in words: ``a whole number from 0 to 100, or "off"``."""
        kind = "a whole number" if self.whole else "a duration" if self.seconds else "a number"
        low = f"above {_fmt(self.low)}" if self.above else f"from {_fmt(self.low)}"
        if self.low == -math.inf:
            span = "" if self.high == math.inf else f" of at most {_fmt(self.high)}"
        elif self.high == math.inf:
            span = f" above {_fmt(self.low)}" if self.above else f" of at least {_fmt(self.low)}"
        else:
            span = f" {low} {'and at most' if self.above else 'to'} {_fmt(self.high)}"
        unit = " seconds" if self.seconds and span else ""
        return f"{kind}{span}{unit}" + (', or "off"' if self.off else "")

    def contains(self, number: float) -> bool:
        low_ok = number > self.low if self.above else number >= self.low
        return low_ok and number <= self.high


def _fix(key: str, example: Any, raw: Any, spec: Range) -> str:
    """Write the example (or, without one, something in range) in the file or the variable."""
    if isinstance(raw, EnvText):
        names = ", ".join(raw.variables) or "the variable"
        if example is None:
            return f"set {names} to {spec.allowed()}"
        shown_example = example if isinstance(example, str) else _fmt(example)
        return f"set {names} to {spec.allowed()}, e.g. {shown_example}"
    if example is None:
        return f"write {key} as {spec.allowed()}"
    return f"write {key} = " + (f'"{example}"' if isinstance(example, str) else _fmt(example))


def read_number(raw: Any, spec: Range, key: str, example: Any) -> Any:
    """``raw`` as a number within ``spec`` (``None`` when switched off).

    A string from the file is refused (TOML has numbers); text from ``${VAR}`` is converted.
    Raises :class:`BadValue` naming the range and a fix built from ``example``.
    """
    if spec.off and (raw is None or (isinstance(raw, str) and raw.strip().lower() in OFF_WORDS)):
        return None
    value = raw
    if isinstance(raw, str) and raw.strip().lower() in OFF_WORDS:
        raise BadValue(
            f"{shown(raw)} is not allowed: {key} cannot be switched off; use {spec.allowed()}",
            _fix(key, example, raw, spec),
        )
    if spec.seconds and isinstance(raw, str):
        match = _DURATION.match(raw)
        if not match:
            raise BadValue(
                f"{shown(raw)} is not a duration: use {spec.allowed()}",
                _fix(key, example, raw, spec)
                + ' (a number of seconds, or a string such as "500ms", "30s", "2m" or "1h")',
            )
        value = float(match.group(1)) * _UNITS[match.group(2)]
    elif isinstance(raw, EnvText):
        try:
            value = int(raw.strip()) if spec.whole else float(raw.strip())
        except ValueError:
            raise BadValue(
                f"{shown(raw)} is not {spec.allowed()}", _fix(key, example, raw, spec)
            ) from None
    elif isinstance(raw, str):
        fix = _fix(key, example, raw, spec)
        try:  # the text is a valid number: the quotes are the only mistake
            number = int(raw) if spec.whole else float(raw)
            if math.isfinite(number) and spec.contains(number):
                fix = f"write {key} = {raw.strip()} without quotes"
        except ValueError:
            pass
        raise BadValue(f"expected {spec.allowed()}, got the string {shown(raw)}", fix)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(
            f"expected {spec.allowed()}, got {shown(raw)}", _fix(key, example, raw, spec)
        )
    if spec.whole and not isinstance(value, int):
        raise BadValue(f"{shown(raw)} is not {spec.allowed()}", _fix(key, example, raw, spec))
    if isinstance(value, float) and not math.isfinite(value):
        raise BadValue(
            f"{shown(raw)} is not a finite number: use {spec.allowed()}",
            _fix(key, example, raw, spec),
        )
    if not spec.contains(value):
        raise BadValue(
            f"{shown(raw)} is out of range: use {spec.allowed()}", _fix(key, example, raw, spec)
        )
    return value if spec.whole else float(value)


def parse_duration(value: Any) -> float:
    """``30``, ``"30s"``, ``"500ms"``, ``"2m"``, ``"1h"`` -> seconds. ``ValueError`` otherwise.

    Any finite duration of 0 or more; keys with their own bounds use :func:`read_number`.
    """
    return float(read_number(value, Range(0, math.inf, seconds=True), "duration", "30s"))


def truth_word(text: str) -> bool | None:
    """``"yes"``/``"on"``/``"1"``/``"true"`` -> True, the opposites -> False, else None."""
    lowered = text.strip().lower()
    return True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else None


def read_bool(raw: Any, key: str) -> bool:
    """``true``/``false``; text from ``${VAR}`` may also be yes/no, on/off or 1/0."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, EnvText):
        word = truth_word(raw)
        if word is not None:
            return word
        names = ", ".join(raw.variables) or "the variable"
        raise BadValue(
            f"{shown(raw)} is not true or false", f"set {names} to true or false (or yes/no, 1/0)"
        )
    if isinstance(raw, str) and truth_word(raw) is not None:
        raise BadValue(
            f"expected true or false, got the string {shown(raw)}",
            f"write {key} = {'true' if truth_word(raw) else 'false'} without quotes",
        )
    raise BadValue(
        f"expected true or false, got {shown(raw)}", f"write {key} = true or {key} = false"
    )


def too_deep(value: Any, limit: int = MAX_DEPTH) -> tuple[str, str, str] | None:
    """``(dotted key, what, fix)`` where ``value`` nests deeper than ``limit`` or has a key that
    is not a string; None when it is fine. Walks without recursion (also cyclic mappings)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    budget = 1_000_000
    while stack:
        item, path, depth = stack.pop()
        budget -= 1
        if budget < 0:
            return path, "holds too many values (over a million)", "split it up"
        if isinstance(item, Mapping):
            children = list(item.items())
        elif isinstance(item, list | tuple):
            children = [(f"[{i}]", v) for i, v in enumerate(item)]
        else:
            continue
        if depth >= limit:
            return (
                path,
                f"nests tables or arrays more than {limit} levels deep",
                f"keep tables and arrays within {limit} levels (a config needs about five)",
            )
        for name, child in children:
            if isinstance(item, Mapping):
                if not isinstance(name, str):
                    where = path or "<top>"
                    return (
                        where,
                        f"has a key that is not a string: {shown(name)}",
                        "use text keys, as in the TOML file the mapping stands for",
                    )
                sub = f"{path}.{key_part(name)}" if path else key_part(name)
            else:
                sub = f"{path}{name}"
            stack.append((child, sub, depth + 1))
    return None


def hide_env_values(text: str, values: list[tuple[Any, EnvText]]) -> str:
    """``text`` (e.g. a provider's own error) with each environment value replaced by its
    reference. ``values`` pairs what the provider was given (converted or not) with the
    :class:`EnvText` it came from.

    Quoted forms are replaced everywhere, long bare forms too; a bare value shorter than four
    characters (``0``, ``25``) only at its first appearance, and only when nothing else of it
    was replaced, so that the fix text's own numbers stay readable.
    """
    marks: list[str] = []
    for given, env in sorted(values, key=lambda pair: -len(str(pair[1]))):
        mark = f"\x00{chr(0xE000 + len(marks))}\x00"  # swapped last: references never searched
        marks.append(repr(env.reference))
        forms = sorted({str(env), str(given)} - {""}, key=len, reverse=True)
        replaced = False
        for form in forms:
            for quoted in (repr(form), f'"{form}"'):
                if quoted in text:
                    text = text.replace(quoted, mark)
                    replaced = True
        for form in forms:
            bare = re.compile(r"(?<![\w.])" + re.escape(form) + r"(?![\w])")
            if len(form) >= 4:
                text, count = bare.subn(mark, text)
                replaced = replaced or count > 0
            elif not replaced:
                text, count = bare.subn(mark, text, count=1)
                replaced = count > 0
    for index, reference in enumerate(marks):
        text = text.replace(f"\x00{chr(0xE000 + index)}\x00", reference)
    return text
