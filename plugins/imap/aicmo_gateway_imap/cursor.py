"""The fetch cursor: which mailbox, in which UIDVALIDITY epoch, up to which UID.

IMAP gives every message in a mailbox a UID that only grows, valid as long as
the mailbox's UIDVALIDITY stays the same. So "everything after UID n in epoch
v of mailbox m" names exactly the messages not yet returned. Callers treat the
encoded form as opaque: ``imap1.`` followed by unpadded URL-safe base64 of the
JSON object ``{"m": mailbox, "v": uidvalidity, "u": last_uid}``.

A cursor comes back from the caller, so decoding trusts nothing: the text is
size-capped before it is decoded, the JSON must have exactly the form
:meth:`Cursor.encode` writes (checked by one linear regular expression before
it is parsed, so no nesting, floats or huge numbers reach the JSON parser),
UIDVALIDITY and UIDs are 32-bit unsigned numbers (RFC 3501), and every failure
is an ``InvalidInput`` naming the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

import attrs

from aicmo_gateway.errors import InvalidInput

__all__ = ["MAX_CURSOR_CHARS", "Cursor"]

PREFIX = "imap1."
#: the longest cursor accepted (a mailbox name of about 3,000 characters)
MAX_CURSOR_CHARS = 16_384
_MAX_UINT32 = 2**32 - 1
_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_FORM = re.compile(rf'\{{"m":{_STRING},"v":\d{{1,10}},"u":\d{{1,10}}\}}')


def _refuse(cursor: object, why: str) -> InvalidInput:
    if isinstance(cursor, str):
        shown = repr(cursor if len(cursor) <= 60 else cursor[:60] + "...")
    else:
        shown = f"a {type(cursor).__name__}"
    return InvalidInput(
        f"cursor: {shown} {why}; pass the cursor of the previous ReplyBatch from this "
        "provider, or None to read the mailbox from the start",
        field="cursor",
    )


def _not_ours(cursor: object, why: str) -> InvalidInput:
    return _refuse(cursor, f"is not a cursor issued by the imap reply fetcher ({why})")


@attrs.frozen
class Cursor:
    mailbox: str
    uidvalidity: int
    #: the highest UID returned so far (0: none yet)
    last_uid: int = 0

    def encode(self) -> str:
        data = {"m": self.mailbox, "v": self.uidvalidity, "u": self.last_uid}
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None, *, mailbox: str) -> Cursor | None:
        """The cursor's state, ``None`` for no cursor; ``InvalidInput`` naming the cursor
        when it is malformed or was issued for another mailbox."""
        if cursor is None:
            return None
        if not isinstance(cursor, str):
            raise _not_ours(cursor, "a cursor is a str")
        if len(cursor) > MAX_CURSOR_CHARS:
            raise _not_ours(cursor, f"it is longer than {MAX_CURSOR_CHARS:,} characters")
        if not cursor.startswith(PREFIX):
            raise _not_ours(cursor, f"it does not start with {PREFIX!r}")
        body = cursor[len(PREFIX) :]
        try:
            text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            raise _not_ours(cursor, "it is damaged: it does not decode") from None
        if not _FORM.fullmatch(text):
            raise _not_ours(cursor, "it is damaged: its content is not in the form it writes")
        try:
            data = json.loads(text)
        except ValueError:  # e.g. a number with leading zeros; the form was checked
            raise _not_ours(cursor, "it is damaged: its content does not parse") from None
        found, validity, last = data["m"], data["v"], data["u"]
        if not (1 <= validity <= _MAX_UINT32 and 0 <= last <= _MAX_UINT32):
            raise _not_ours(
                cursor, "it is damaged: UIDVALIDITY and UIDs are 32-bit unsigned numbers"
            )
        if found != mailbox:
            raise _refuse(
                cursor,
                f"was issued for mailbox {found!r}, but this provider reads {mailbox!r}",
            )
        return cls(found, validity, last)
