"""A post's text for Bluesky: its length in graphemes and its rich-text facets.

From the lexicons (github.com/bluesky-social/atproto ``lexicons/``) and docs.bsky.app
``advanced-guides/post-richtext``:

* ``app.bsky.feed.post``: ``text`` has ``maxGraphemes: 300`` and ``maxLength: 3000`` (UTF-8
  bytes). Graphemes are extended grapheme clusters: an emoji ZWJ sequence, a flag or a letter
  with combining marks is one.
* ``app.bsky.richtext.facet``: each facet's ``index`` is a ``byteStart``/``byteEnd`` range of
  the text's **UTF-8 bytes** (end exclusive), with a ``#link`` (``uri``), ``#mention``
  (``did``) or ``#tag`` (``tag``, without the ``#``, at most 64 graphemes) feature.

Detection follows the official SDK (``packages/api/src/rich-text/detection.ts``): a URL with
an ``http(s)://`` scheme, without trailing punctuation; ``@handle`` where the handle looks like
a domain (it is resolved to a DID afterwards); ``#tag`` after a space or the start, not only
digits, without trailing punctuation.
"""

from __future__ import annotations

import importlib
from typing import Any

import attrs

__all__ = ["MAX_BYTES", "MAX_GRAPHEMES", "Span", "byte_length", "find_spans", "graphemes"]

# regex (the well-kept alternative to re) segments extended grapheme clusters with ``\X``
_regex: Any = importlib.import_module("regex")

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_TAG_GRAPHEMES = 64

_GRAPHEME = _regex.compile(r"\X")
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_URL = _regex.compile(r"(?:^|(?<=[\s(]))(https?://\S+)", _regex.IGNORECASE)
_MENTION = _regex.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]+)")
_HANDLE = _regex.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_TAG = _regex.compile(
    rf"(?:^|(?<=\s))[#\uFF03]((?!\ufe0f)[^\s{_INVISIBLE}]*[^\d\s\p{{P}}{_INVISIBLE}]+"
    rf"[^\s{_INVISIBLE}]*)"
)
_TRAILING_PUNCTUATION = _regex.compile(r"\p{P}+$")


def graphemes(text: str) -> int:
    """The number of extended grapheme clusters (user-perceived characters) in ``text``."""
    return len(_GRAPHEME.findall(text))


def byte_length(text: str) -> int:
    """The length of ``text`` in UTF-8 bytes."""
    return len(text.encode("utf-8"))


@attrs.frozen
class Span:
    """A facet found in the text: its UTF-8 byte range and what it is."""

    byte_start: int
    byte_end: int
    kind: str  # "link", "mention" or "tag"
    #: the link's URI, the mention's handle (to resolve), the tag without "#"
    value: str


def _span(text: str, start: int, end: int, kind: str, value: str) -> Span:
    before = byte_length(text[:start])
    return Span(before, before + byte_length(text[start:end]), kind, value)


def _links(text: str) -> list[Span]:
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span(1)
        uri = match.group(1)
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        spans.append(_span(text, start, end, "link", uri))
    return spans


def _mentions(text: str) -> list[Span]:
    spans = []
    for match in _MENTION.finditer(text):
        handle = match.group(1).rstrip(".-")
        if not _HANDLE.match(handle):
            continue  # probably not a handle
        start = match.start()
        spans.append(_span(text, start, start + 1 + len(handle), "mention", handle))
    return spans


def _tags(text: str) -> list[Span]:
    spans = []
    for match in _TAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group(1).strip())
        if not tag or graphemes(tag) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start()
        spans.append(_span(text, start, start + 1 + len(tag), "tag", tag))
    return spans


def find_spans(text: str) -> list[Span]:
    """The links, mentions and tags in ``text``, in order, without overlaps (links win)."""
    found = sorted(
        _links(text) + _mentions(text) + _tags(text),
        key=lambda s: (s.byte_start, s.kind != "link"),
    )
    kept: list[Span] = []
    for span in found:
        if kept and span.byte_start < kept[-1].byte_end:
            continue
        kept.append(span)
    return kept
