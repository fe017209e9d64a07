"""The Maildir reply fetcher's cursor: a watermark and the keys seen just below it.

Callers treat it as opaque: ``md1.`` followed by unpadded URL-safe base64 of
the zlib-compressed JSON ``{"w": watermark or null, "s": [[key, ns], ...]}``.
A cursor comes back from the caller, so decoding trusts nothing: the text and
the inflated JSON are size-capped before any work, the JSON must have exactly
the form :meth:`MaildirCursor.encode` writes (checked by one linear regular
expression before it is parsed, so no nesting, floats or huge numbers reach
the JSON parser), times are nanoseconds in ``-2**63 < t < 2**63``, and every
failure is an ``InvalidInput`` naming the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib

import attrs

from aicmo_gateway.errors import InvalidInput

__all__ = ["MAX_CURSOR_CHARS", "MAX_INFLATED_BYTES", "MaildirCursor"]

PREFIX = "md1."
#: the longest cursor accepted (about 100,000 seen keys; real ones hold a few)
MAX_CURSOR_CHARS = 4 * 1024 * 1024
#: the most a cursor may inflate to
MAX_INFLATED_BYTES = 8 * 1024 * 1024
_MAX_NS = 2**63
_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_PAIR = rf"\[{_STRING},-?\d{{1,19}}\]"
_FORM = re.compile(rf'\{{"w":(?:null|-?\d{{1,19}}),"s":\[(?:{_PAIR}(?:,{_PAIR})*)?\]\}}')


class _Damaged(Exception):
    pass


def _refuse(cursor: object, why: str) -> InvalidInput:
    if isinstance(cursor, str):
        shown = repr(cursor if len(cursor) <= 40 else cursor[:40] + "...")
    else:
        shown = f"a {type(cursor).__name__}"
    return InvalidInput(
        f"cursor: {shown} is not a cursor issued by the maildir reply fetcher ({why}); "
        "pass the cursor of the previous ReplyBatch, or None to start over",
        field="cursor",
    )


@attrs.frozen
class MaildirCursor:
    #: the newest delivery time returned so far (ns), None before the first reply
    watermark: int | None = None
    #: keys returned within the grace window below the watermark -> their delivery time
    seen: dict[str, int] = attrs.field(factory=dict)

    def encode(self) -> str:
        data = {"w": self.watermark, "s": sorted(self.seen.items())}
        packed = zlib.compress(json.dumps(data, separators=(",", ":")).encode("ascii"))
        return PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None) -> MaildirCursor:
        """The cursor's state (empty for ``None``); ``InvalidInput`` for anything else."""
        if cursor is None:
            return cls()
        if not isinstance(cursor, str):
            raise _refuse(cursor, "a cursor is a str")
        if len(cursor) > MAX_CURSOR_CHARS:
            raise _refuse(cursor, f"it is longer than {MAX_CURSOR_CHARS:,} characters")
        if not cursor.startswith(PREFIX):
            raise _refuse(cursor, f"it does not start with {PREFIX!r}")
        try:
            return cls._parse(_inflate(cursor[len(PREFIX) :]))
        except _Damaged as exc:
            raise _refuse(cursor, f"it is damaged: {exc}") from None

    @classmethod
    def _parse(cls, text: str) -> MaildirCursor:
        if not _FORM.fullmatch(text):
            raise _Damaged("its content is not in the form this fetcher writes")
        try:
            data = json.loads(text)
        except ValueError as exc:  # e.g. a lone surrogate escape; the form was checked
            raise _Damaged(f"its content does not parse ({exc})") from None
        watermark, pairs = data["w"], data["s"]
        times = [when for _, when in pairs] + ([] if watermark is None else [watermark])
        if any(not -_MAX_NS < when < _MAX_NS for when in times):
            raise _Damaged("a time is out of range")
        return cls(watermark, dict(pairs))

    def advance(self, returned: list[tuple[int, str]], grace_ns: int) -> MaildirCursor:
        watermark = max([when for when, _ in returned] + [self.watermark or 0])
        seen = dict(self.seen)
        seen.update((key, when) for when, key in returned)
        return MaildirCursor(watermark, {k: t for k, t in seen.items() if t > watermark - grace_ns})


def _inflate(body: str) -> str:
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _Damaged(f"it is not base64 ({exc})") from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(packed, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise _Damaged(f"it does not decompress ({exc})") from None
    if inflater.unconsumed_tail:
        raise _Damaged(f"it inflates to more than {MAX_INFLATED_BYTES:,} bytes")
    if not inflater.eof or inflater.unused_data:
        raise _Damaged("its compressed data is cut short or has trailing bytes")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise _Damaged("its content is not ASCII") from None
