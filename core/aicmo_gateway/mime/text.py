"""Plain text from HTML, for replies that have no text part, in one linear pass.

The standard library's ``html.parser`` takes quadratic time on unclosed
constructs (200,000 ``<!--`` took six minutes), so the HTML of a stranger's
message is read here with ``str.find`` only: a tag ends at the next ``>``, a
comment at the next ``-->`` (an unclosed one runs to the end, as in browsers),
and an unclosed tag ends the text. Every step moves forward, so the cost is
linear in the size of the HTML.
"""

from __future__ import annotations

import re
from html import unescape

__all__ = ["html_to_text"]

_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})
#: elements whose content is not markup: skipped up to their end tag without looking inside
_RAW_TEXT = {name: re.compile(f"</{name}", re.IGNORECASE) for name in ("script", "style")}
_TAG = re.compile(r"(/?)([a-zA-Z][a-zA-Z0-9-]*)")


def html_to_text(html: str) -> str:
    """Plain text from HTML: tags, scripts and styles dropped, blocks on their own lines."""
    chunks: list[str] = []
    hidden = 0
    at, end = 0, len(html)
    while at < end:
        lt = html.find("<", at)
        if lt < 0:
            lt = end
        if lt > at and not hidden:
            chunks.append(unescape(html[at:lt]))
        if lt >= end:
            break
        if html.startswith("<!--", lt):
            close = html.find("-->", lt + 4)
            at = end if close < 0 else close + 3
            continue
        gt = html.find(">", lt + 1)
        if gt < 0:
            break  # an unclosed tag: nothing after it is text
        tag = _TAG.match(html, lt + 1, gt)
        if tag is None:  # "<!DOCTYPE", "<?xml", "< b": not an element
            if html[lt + 1 : lt + 2] not in ("!", "?", "/") and not hidden:
                chunks.append(unescape(html[lt : gt + 1]))
            at = gt + 1
            continue
        name = tag.group(2).lower()
        closing = tag.group(1) == "/"
        at = gt + 1
        if name in _HIDDEN:
            hidden = max(0, hidden - 1) if closing else hidden + 1
            if name in _RAW_TEXT and not closing:
                found = _RAW_TEXT[name].search(html, at)
                at = end if found is None else found.start()
        elif name in _BLOCKS:
            chunks.append("\n")
    lines = (" ".join(line.split()) for line in "".join(chunks).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
