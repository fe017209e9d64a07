"""What text may go into a header or a body: control characters, encoded words, word length.

Shared by the record validators (which refuse bad input with a clear message) and by
:mod:`aicmo_gateway.mime` (which checks what it rendered before anything leaves the process).
Each ``problem_*`` function returns the problem in words, or ``None`` when the text is fine.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "ENCODED_WORD",
    "MAX_WORD_OCTETS",
    "decoded_words",
    "describe",
    "first_control",
    "is_control",
    "problem_with_body",
    "problem_with_header_text",
]

#: the longest run without spaces a header field may hold, in UTF-8 octets: such a run cannot
#: be folded, and a header line may hold at most 998 octets (RFC 5322 section 2.1.1)
MAX_WORD_OCTETS = 900

#: an RFC 2047 encoded word, matched as loosely as lenient mail readers decode them
ENCODED_WORD = re.compile(r"=\?([^?]*)\?([bBqQ])\?([^?]*)\?=")

_HIGH_TO_QUESTION_MARK = bytes(range(128)) + b"?" * 128

#: where a header may be folded (not every Unicode space: folding happens at SP and TAB)
_BLANKS = re.compile(r"[ \t]+")

_NAMES = {
    "\x00": "a NUL byte",
    "\r": "a carriage return (CR)",
    "\n": "a line feed (LF)",
    "\x85": "a next-line character (U+0085)",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}


def is_control(ch: str) -> bool:
    """C0 controls but TAB, DEL, C1 controls, and the Unicode line and paragraph separators."""
    code = ord(ch)
    return (code < 32 and ch != "\t") or 127 <= code <= 159 or ch in "\u2028\u2029"


def describe(ch: str) -> str:
    return _NAMES.get(ch, f"the control character U+{ord(ch):04X}")


def first_control(text: str) -> str | None:
    """The first control character in ``text`` (see :func:`is_control`), or ``None``."""
    return next((ch for ch in text if is_control(ch)), None)


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _decode_word(charset: str, encoding: str, payload: str) -> str | None:
    """The text of one encoded word, decoded as leniently as mail readers do; None if hopeless."""
    try:
        raw = payload.encode("utf-8")
        if encoding in "qQ":
            data = binascii.a2b_qp(raw, header=True)
        else:
            data = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=False)
    except (binascii.Error, ValueError):
        return None
    name = charset.partition("*")[0] or "us-ascii"  # RFC 2231 adds '*language'
    try:
        declared = data.decode(name, errors="replace")
    except LookupError:  # an unknown charset (or not a text codec): readers guess
        declared = ""
    # each octet too: a C0 control octet is one whatever the declared charset says
    return declared + data.translate(_HIGH_TO_QUESTION_MARK).decode("ascii")


def decoded_words(text: str) -> list[str]:
    """The decoded text of every encoded word in ``text``."""
    found = []
    for match in ENCODED_WORD.finditer(text):
        decoded = _decode_word(*match.groups())
        if decoded is not None:
            found.append(decoded)
    return found


def problem_with_header_text(text: str) -> str | None:
    """Why ``text`` may not go into a header, or ``None``.

    Refused: control characters (NUL, CR, LF and the other C0 controls but TAB; DEL; C1
    controls; U+2028 and U+2029), lone surrogates, encoded words (``=?charset?q?...?=``) that
    decode to a control character, and a run without spaces longer than ``MAX_WORD_OCTETS``.
    """
    ch = first_control(text)
    if ch is not None:
        return f"it contains {describe(ch)}, which could inject headers; remove it"
    if _lone_surrogate(text):
        return "it is not valid Unicode text (it holds a lone surrogate); pass decoded text"
    for decoded in decoded_words(text):
        ch = first_control(decoded)
        if ch is not None:
            return (
                f"it contains an RFC 2047 encoded word that decodes to {describe(ch)}, "
                "which could inject headers; pass plain text (the gateway encodes what "
                "needs encoding)"
            )
    longest = max((len(word.encode("utf-8")) for word in _BLANKS.split(text)), default=0)
    if longest > MAX_WORD_OCTETS:
        return (
            f"it has a {longest}-octet run without spaces, which cannot be folded into header "
            f"lines of at most 998 octets; shorten it or break it with spaces "
            f"(at most {MAX_WORD_OCTETS} octets between spaces)"
        )
    return None


def problem_with_body(text: str) -> str | None:
    """Why ``text`` may not be a message body (NUL or lone surrogates), or ``None``.

    Line ends of any kind are fine: the body is rewritten with the transport's line ends.
    """
    if "\x00" in text:
        return "it contains a NUL byte, which RFC 5322 does not allow in a message; remove it"
    if _lone_surrogate(text):
        return "it is not valid Unicode text (it holds a lone surrogate); pass decoded text"
    return None
