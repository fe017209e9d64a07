"""A status's length as Mastodon counts it, before sending.

Mastodon's ``StatusLengthValidator`` (app/validators/status_length_validator.rb, Mastodon 4.x;
documented at docs.joinmastodon.org/user/posting/#text and api/entities/Instance
``configuration.statuses``) counts:

* **extended grapheme clusters** (Ruby's ``each_grapheme_cluster``), not code points: an emoji
  ZWJ sequence, a flag or a letter with combining marks is one character;
* the content warning (``spoiler_text``) and the text together;
* **every URL as ``characters_reserved_per_url`` characters** (23), however long: URLs with an
  ``http://`` or ``https://`` scheme only (``extract_url_without_protocol: false``);
* **a mention ``@user@domain`` as ``@user``**: the domain does not count.

Entities that overlap are resolved as Mastodon does: the one starting first wins (a mention
inside a URL is part of the URL).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["count_characters", "countable_text", "graphemes"]

# regex (the well-kept alternative to re) segments extended grapheme clusters with ``\X``
_regex: Any = importlib.import_module("regex")

_GRAPHEME = _regex.compile(r"\X")
#: twitter-text's rules as Mastodon uses them: a scheme, a host with a top-level domain (or an
#: IP address or localhost), an optional port, then a path, query or fragment
_URL = _regex.compile(
    r"""
    (?<![\p{L}\p{N}@$#\uFF20\uFF03/])
    https?://
    (?:
        (?:[\p{L}\p{N}](?:[\p{L}\p{N}_-]*[\p{L}\p{N}])?\.)+\p{L}{2,}
      | \d{1,3}(?:\.\d{1,3}){3}
      | localhost
    )
    (?::\d{1,5})?
    (?:[/?\#][^\s<>"]*)?
    """,
    _regex.VERBOSE | _regex.IGNORECASE,
)
#: Account::MENTION_RE: @username, optionally @domain; not after "=", "/" or a word character
_MENTION = _regex.compile(
    r"(?<![=/\w])@((?:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\w]+(?:[.-]+[\w]+)*)?)",
    _regex.IGNORECASE,
)
#: characters a URL does not end with (punctuation after a link belongs to the sentence)
_TRAILING = ".,;:!?'\"*"


def graphemes(text: str) -> int:
    """The number of extended grapheme clusters (user-perceived characters) in ``text``."""
    return len(_GRAPHEME.findall(text))


def _url_end(text: str, start: int, end: int) -> int:
    """Where the URL found at ``start:end`` really ends, without trailing punctuation."""
    opened, closed = text.count("(", start, end), text.count(")", start, end)
    while end > start:
        last = text[end - 1]
        unbalanced = last == ")" and opened < closed
        if last not in _TRAILING and not unbalanced:
            break
        closed -= last == ")"
        end -= 1
    return end


def _entities(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the URLs and mentions Mastodon would extract, without overlaps."""
    found = [(m.start(), _url_end(text, m.start(), m.end()), "url") for m in _URL.finditer(text)]
    found += [(m.start(), m.end(), "mention") for m in _MENTION.finditer(text)]
    found.sort()
    kept: list[tuple[int, int, str]] = []
    for entity in found:
        if kept and entity[0] < kept[-1][1]:
            continue
        kept.append(entity)
    return kept


def countable_text(text: str, url_length: int = 23) -> str:
    """``text`` with each URL replaced by ``url_length`` placeholders and mentions shortened."""
    pieces: list[str] = []
    position = 0
    for start, end, kind in _entities(text):
        pieces.append(text[position:start])
        if kind == "url":
            pieces.append("x" * url_length)
        else:
            pieces.append("@" + text[start + 1 : end].split("@")[0])
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def count_characters(text: str, spoiler: str | None = None, *, url_length: int = 23) -> int:
    """The length Mastodon checks against ``max_characters``: the warning plus the text."""
    return graphemes((spoiler or "") + countable_text(text, url_length))
