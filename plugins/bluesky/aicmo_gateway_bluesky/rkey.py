"""The record key of a post, derived from the call's idempotency key.

Bluesky has no idempotency key, but a repository holds at most one record per collection and
record key: ``com.atproto.repo.createRecord`` with an ``rkey`` that already exists fails (the
reference PDS answers 500 ``InternalServerError`` from its MST, "There is already a value at
key"), it never creates a second record. So every attempt of one call uses the same record key,
derived from the call's key.

``app.bsky.feed.post`` declares ``"key": "tid"`` and the PDS validates the key against it, so
the key has TID syntax (atproto.com/specs/tid): 13 characters of the base32-sortable alphabet
``234567abcdefghijklmnopqrstuvwxyz``, the first one of ``234567abcdefghij`` (the top bit is 0).
Its 63 bits are the first bits of the key's SHA-256, not a clock: the record key does not tell
when the post was made (the spec says not to trust that anyway; the record's ``createdAt``
does).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["TID", "rkey_for_key"]

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
#: the TID syntax of atproto.com/specs/tid
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def rkey_for_key(key: str) -> str:
    """A TID-syntax record key, the same for every call with ``key``."""
    digest = hashlib.sha256(b"aicmo-gateway/bluesky/rkey\0" + key.encode("utf-8")).digest()
    number = int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))
