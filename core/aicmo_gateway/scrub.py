"""``Scrubber``: removes a provider's secret values from text that came from the provider.

Provider error texts enter the engine in one place (:mod:`aicmo_gateway.engine.attempt`, and the
live checks in :mod:`aicmo_gateway.live_checks`); they are scrubbed there, once, so nothing
derived from them (attempt details, outcome reasons, cooldown reasons, health, the audit
trail, the state files, logs) ever holds a secret.

A server that refuses a login often echoes what it was sent, and not always as sent:

- each secret as it is, URL-encoded (``%40``, ``+`` for spaces), escaped as a JSON or
  Python string would escape it, or as the hex of its UTF-8 bytes, in any letter case
  (a server may echo it upper-cased);
- base64 (standard or URL-safe, padded or not) of any text containing a secret: the
  ``AUTH PLAIN`` argument (``\\0user\\0password``), ``AUTH LOGIN``'s answers, an HTTP
  ``Basic`` credential. Every base64-looking run in the text is decoded, and masked whole
  when the decoded bytes contain a secret;
- cut short: a text truncated in the middle of a secret (``Pa55-wo...``, or at the very
  end) ends with a prefix of it, and a truncated base64 run decodes to one; a prefix of at
  least :data:`PREFIX` characters right before ``...``, ``…`` or the end is masked too.

:func:`is_secret_key` tells a credential's name (a setting, a header, a field of a record), and
:func:`summary` is the short ``repr()``-like text of a value that the state files keep, with the
values under such names masked, whatever the value itself is.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, AnyStr
from urllib.parse import quote, quote_plus

import attrs

__all__ = ["MASK", "PREFIX", "SECRET_WORDS", "Scrubber", "is_secret_key", "summary"]

MASK = "********"

#: the shortest beginning of a secret masked where a text was cut short
PREFIX = 6
#: where a text was cut short: an ellipsis (the end of the text counts too)
_CUT = re.compile("\\.\\.\\.|\u2026")
#: a run that may be base64 (standard or URL-safe alphabet), long enough to hide a secret
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{6,}={0,2}")
#: words that make a name a credential's, wherever they appear in it (``X-Api-Key``,
#: ``smtp_password``, ``Proxy-Authorization``, ``Set-Cookie``)
SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "credential",
    "private",
    "authorization",
    "cookie",
)
#: whole names that are a credential's too (too short to look for inside other names)
_SECRET_NAMES = frozenset({"auth", "pass", "pwd"})


def is_secret_key(key: str) -> bool:
    """Whether a name (a setting, a header, a field) suggests a credential."""
    lowered = key.lower().replace("-", "_")
    return lowered in _SECRET_NAMES or any(word in lowered for word in SECRET_WORDS)


def _forms(secret: str) -> set[str]:
    """The ways ``secret`` may be written into a text: as is, URL-encoded, escaped."""
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        secret.encode("utf-8").hex(),  # a server that dumps what it got in hex
    }


def _decodings(run: str) -> list[bytes]:
    """``run`` decoded as base64 (either alphabet, padding optional), from each of its first
    four characters: a run glued to the word before it still decodes at the right offset."""
    found = []
    altchars = b"-_" if ("-" in run or "_" in run) else None
    for start in range(min(4, len(run))):
        body = run[start:].rstrip("=")
        if len(body) % 4 == 1:
            body = body[:-1]
        try:
            found.append(
                base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
            )
        except (binascii.Error, ValueError):
            continue
    return found


class Scrubber:
    """Masks given secret values, in their usual encodings, in texts.

    Secrets shorter than ``minimum`` characters are ignored (masking every ``abc`` would
    garble texts without protecting anything worth the name).
    """

    __slots__ = ("_encoded", "_kept", "_pattern")

    def __init__(self, secrets: Iterable[str], *, minimum: int = 4) -> None:
        kept = sorted({s for s in secrets if isinstance(s, str) and len(s) >= minimum})
        forms = {form for secret in kept for form in _forms(secret) if len(form) >= minimum}
        # longest first, so a form containing another is masked whole
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        # case-blind: a server may echo a secret upper-cased (or its hex in capitals); masking
        # a text that matches a secret but for case hides nothing worth keeping
        self._pattern = (
            re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE) if ordered else None
        )
        self._kept = tuple(kept)
        self._encoded = tuple(secret.encode("utf-8") for secret in kept)

    def __repr__(self) -> str:
        return f"<Scrubber of {len(self._encoded)} secret(s)>"

    def __bool__(self) -> bool:
        return bool(self._encoded)

    def __call__(self, text: str) -> str:
        """``text`` with every secret, and every base64 run hiding one, replaced by the mask."""
        if self._pattern is None or not text:
            return text
        text = self._pattern.sub(MASK, text)
        text = self._mask_cut_beginnings(text)
        return _BASE64_RUN.sub(self._mask_base64, text)

    def _mask_cut_beginnings(self, text: str) -> str:
        """Mask a secret's beginning that ends where the text was cut short."""
        cuts = [match.start() for match in _CUT.finditer(text)] + [len(text)]
        for end in reversed(cuts):  # right to left, so earlier positions stay valid
            for secret in self._kept:
                start = _beginning_ending_at(text, end, secret)
                if start is not None:
                    text = text[:start] + MASK + text[end:]
                    break
        return text

    def _mask_base64(self, match: re.Match[str]) -> str:
        run = match.group(0)
        cut_short = _CUT.match(match.string, match.end()) is not None or match.end() == len(
            match.string
        )
        for decoded in _decodings(run):
            if any(secret in decoded for secret in self._encoded):
                return MASK
            if cut_short and any(
                _beginning_ending_at(decoded, len(decoded), secret) is not None
                for secret in self._encoded
            ):
                return MASK
        return run


def _beginning_ending_at(text: AnyStr, end: int, secret: AnyStr) -> int | None:
    """Where a beginning of ``secret`` (at least :data:`PREFIX` long, not all of it) that
    ends exactly at ``end`` starts in ``text``, if there is one."""
    if len(secret) <= PREFIX:
        return None
    head = secret[:PREFIX]
    found = text.find(head, max(0, end - len(secret) + 1), end)
    while found != -1:
        if secret.startswith(text[found:end]):
            return found
        found = text.find(head, found + 1, end)
    return None


# -- value summaries ----------------------------------------------------------------------------

#: how deep :func:`summary` follows records, mappings and sequences
_SUMMARY_DEPTH = 6


class _Full(Exception):
    """The summary has all the characters it may show."""


class _Text:
    """Pieces of a summary, up to a budget of characters (then :class:`_Full`)."""

    __slots__ = ("left", "parts")

    def __init__(self, budget: int) -> None:
        self.parts: list[str] = []
        self.left = budget

    def add(self, piece: str) -> None:
        self.left -= len(piece)
        if self.left < 0:
            self.parts.append(piece[: len(piece) + self.left])
            raise _Full
        self.parts.append(piece)


def summary(value: Any, limit: int = 200) -> str:
    """A ``repr()``-like text of ``value``, at most ``limit`` characters (cut with ``...``).

    Records (attrs classes, their fields with ``repr=False`` left out), mappings and
    sequences are followed, and the value under any credential-like name (a mapping's key,
    a record's field: see :func:`is_secret_key`) shows as :data:`MASK`, so a provider that
    returns what its service echoed (``{"token": ...}``, an ``Authorization`` header) does not
    put it in the summary. Only what the summary shows is rendered: a large value costs no
    more than a small one. Known secret values are for a :class:`Scrubber` to mask after.
    """
    text = _Text(limit + 1)
    with contextlib.suppress(_Full):
        _render(value, text, 0)
    shown = "".join(text.parts)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


#: values shown by their own ``repr()`` at once
_SCALARS = frozenset({type(None), bool, int, float, complex})
_MASKED = repr(MASK)
_SEQUENCE_REPRS = (list.__repr__, tuple.__repr__, set.__repr__, frozenset.__repr__)


@functools.lru_cache(maxsize=512)
def _secret_name(name: str) -> bool:
    return is_secret_key(name)


_Plan = tuple[str, tuple[tuple[str, str, Any, bool], ...]]
_PLANS: dict[type, _Plan] = {}


def _record_plan(cls: type) -> _Plan:
    """A record class's name and, per shown field: its ``name=`` prefix, its name, its
    custom repr (or ``None``) and whether its name is a credential's (kept per class)."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _make_plan(cls)
        if len(_PLANS) < 1024:
            _PLANS[cls] = plan
    return plan


def _make_plan(cls: type) -> _Plan:
    fields = []
    for field in attrs.fields(cls):
        if not field.repr:
            continue
        custom = field.repr if callable(field.repr) else None
        fields.append((f"{field.name}=", field.name, custom, is_secret_key(field.name)))
    return cls.__qualname__.rsplit(">.", 1)[-1], tuple(fields)


def _kind_of(cls: type) -> str:
    """How :func:`_render` shows values of ``cls`` (decided once per class)."""
    kind = _KINDS.get(cls)
    if kind is None:
        if cls in _SCALARS:
            kind = "scalar"
        elif cls is str or cls is bytes:
            kind = "text"
        elif attrs.has(cls):
            kind = "record"
        elif issubclass(cls, Mapping):
            kind = "mapping"
        elif issubclass(cls, list | tuple | set | frozenset) and cls.__repr__ in _SEQUENCE_REPRS:
            kind = "sequence"
        else:
            kind = "other"
        if len(_KINDS) < 1024:
            _KINDS[cls] = kind
    return kind


_KINDS: dict[type, str] = {}


def _render(value: Any, out: _Text, depth: int) -> None:
    cls = type(value)
    kind = _kind_of(cls)
    if kind == "scalar" or kind == "other":
        out.add(repr(value))
        return
    if kind == "text":
        # a long string is cut before repr(): only the shown part is escaped
        out.add(repr(value[: out.left + 1]) if len(value) > out.left else repr(value))
        return
    if depth >= _SUMMARY_DEPTH:
        out.add("...")
        return
    if kind == "record":
        name, fields = _record_plan(cls)
        out.add(name + "(")
        for i, (prefix, field, custom, secret) in enumerate(fields):
            out.add(prefix if i == 0 else ", " + prefix)
            item = getattr(value, field, None)
            if secret and item is not None:
                out.add(_MASKED)
            elif custom is not None:
                out.add(custom(item))
            else:
                _render(item, out, depth + 1)
        out.add(")")
    elif kind == "mapping":
        plain = cls is dict
        out.add("{" if plain else f"{cls.__name__}({{")
        for i, (key, item) in enumerate(value.items()):
            out.add(("" if i == 0 else ", ") + f"{key!r}: ")
            if isinstance(key, str) and item is not None and _secret_name(key):
                out.add(_MASKED)
            else:
                _render(item, out, depth + 1)
        out.add("}" if plain else "})")
    else:  # a list, tuple, set or frozenset shown as the built-in shows it
        if isinstance(value, set | frozenset) and not value:
            out.add(repr(value))
            return
        if isinstance(value, list | tuple):
            opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        else:
            opening, closing = ("frozenset({", "})") if isinstance(value, frozenset) else ("{", "}")
        out.add(opening)
        for i, item in enumerate(value):
            if i:
                out.add(", ")
            _render(item, out, depth + 1)
        out.add("," + closing if isinstance(value, tuple) and len(value) == 1 else closing)
