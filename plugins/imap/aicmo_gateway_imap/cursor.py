"""The fetch cursor: which mailbox, in which UIDVALIDITY epoch, up to which UID.

IMAP gives every message in a mailbox a UID that only grows, valid as long as
the mailbox's UIDVALIDITY stays the same. So "everything after UID n in epoch
v of mailbox m" names exactly the messages not yet returned. Callers treat the
encoded form as opaque: ``imap1.`` followed by unpadded URL-safe base64 of the
JSON object ``{"m": mailbox, "v": uidvalidity, "u": last_uid}``.
"""

from __future__ import annotations

import base64
import binascii
import json

import attrs

from aicmo_gateway.errors import InvalidInput

__all__ = ["Cursor"]

PREFIX = "imap1."


def _refuse(cursor: object, why: str) -> InvalidInput:
    text = str(cursor)
    shown = text if len(text) <= 60 else text[:60] + "..."
    return InvalidInput(
        f"cursor: {shown!r} {why}; pass the cursor of the previous ReplyBatch from this "
        "provider, or None to read the mailbox from the start",
        field="cursor",
    )


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
        if not isinstance(cursor, str) or not cursor.startswith(PREFIX):
            raise _refuse(cursor, "is not a cursor issued by the imap reply fetcher")
        body = cursor[len(PREFIX) :]
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            found, validity, last = data["m"], data["v"], data["u"]
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            raise _refuse(cursor, "is damaged (it does not decode)") from None
        if not (
            isinstance(found, str)
            and _whole(validity)
            and validity > 0
            and _whole(last)
            and last >= 0
        ):
            raise _refuse(cursor, "is damaged (its fields are out of range)")
        if found != mailbox:
            raise _refuse(
                cursor,
                f"was issued for mailbox {found!r}, but this provider reads {mailbox!r}",
            )
        return cls(found, validity, last)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
