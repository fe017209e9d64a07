"""Every cursor decoder, fuzzed: for any input it decodes or raises ``InvalidInput``, nothing else.

Fuzzing found ``OverflowError`` and ``RecursionError`` in the Maildir decoder and
``RecursionError`` in the IMAP one (so those calls ended FAILED instead of REJECTED), and a
518 KB compressed cursor that cost 766 MiB. The properties below feed both decoders
arbitrary text, arbitrary bytes in each format's envelope, arbitrary JSON (deep nesting,
huge and non-finite numbers), near-valid records with out-of-range fields, oversized
cursors and compression bombs. Each input must be answered within ``BOUND_SECONDS``.
Hypothesis runs derandomized and without a database, so CI sees the same inputs every time.
"""

from __future__ import annotations

import base64
import json
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aicmo_gateway_imap.cursor import MAX_CURSOR_CHARS as IMAP_MAX
from aicmo_gateway_imap.cursor import Cursor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aicmo_gateway import Gateway
from aicmo_gateway.builtin.maildir_cursor import MAX_CURSOR_CHARS as MAILDIR_MAX
from aicmo_gateway.builtin.maildir_cursor import MaildirCursor
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.outcome import Status

#: far above any decode (microseconds to milliseconds), far below a pathological one
BOUND_SECONDS = 2.0
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=1500,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def maildir(cursor: Any) -> object:
    return MaildirCursor.decode(cursor)


def imap(cursor: Any) -> object:
    return Cursor.decode(cursor, mailbox="INBOX")


DECODERS: dict[str, Callable[[Any], object]] = {"maildir": maildir, "imap": imap}


def envelope(name: str, payload: bytes) -> str:
    """``payload`` wrapped as the named decoder's cursor (Maildir's is compressed)."""
    if name == "maildir":
        return "md1." + base64.urlsafe_b64encode(zlib.compress(payload)).decode().rstrip("=")
    return "imap1." + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def answers(name: str, cursor: Any) -> None:
    """The decoder returns or raises ``InvalidInput`` naming the cursor, within the bound."""
    started = time.monotonic()
    error: InvalidInput | None = None
    try:
        DECODERS[name](cursor)
    except InvalidInput as exc:
        error = exc
    elapsed = time.monotonic() - started
    if error is not None:
        assert error.field == "cursor"
        assert "None" in str(error)
        assert len(str(error)) < 1_000
    assert elapsed < BOUND_SECONDS, f"{elapsed:.2f}s"


names = st.sampled_from(sorted(DECODERS))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)
big_ints = st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from(
    [0, 1, -1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, -(2**63), 10**30]
)


@FUZZ
@given(name=names, cursor=st.text(max_size=300))
def test_any_text_is_decoded_or_refused(name: str, cursor: str) -> None:
    answers(name, cursor)


@FUZZ
@given(
    name=names,
    prefix=st.sampled_from(["md1.", "imap1.", ""]),
    body=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/."),
)
def test_base64_like_text_after_any_prefix_is_decoded_or_refused(
    name: str, prefix: str, body: str
) -> None:
    answers(name, prefix + body)


@FUZZ
@given(name=names, payload=st.binary(max_size=500))
def test_any_bytes_in_the_envelope_are_decoded_or_refused(name: str, payload: bytes) -> None:
    answers(name, envelope(name, payload))


@FUZZ
@given(name=names, value=json_values)
def test_any_json_in_the_envelope_is_decoded_or_refused(name: str, value: object) -> None:
    answers(name, envelope(name, json.dumps(value).encode()))


@FUZZ
@given(
    name=names,
    depth=st.integers(min_value=1, max_value=200_000),
    opener=st.sampled_from(["[", '{"a":', '{"m":', '{"w":', '{"s":']),
    field=st.sampled_from(["m", "v", "u", "w", "s"]),
)
def test_deep_nesting_anywhere_is_refused(name: str, depth: int, opener: str, field: str) -> None:
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "1" + closer * depth
    answers(name, envelope(name, f'{{"{field}":{nested}}}'.encode()))
    answers(name, envelope(name, nested.encode()))


@FUZZ
@given(
    mailbox=st.text(max_size=40) | st.just("INBOX"),
    validity=big_ints | st.floats() | st.booleans() | st.none(),
    uid=big_ints | st.floats() | st.booleans() | st.none(),
)
def test_near_valid_imap_cursors_are_decoded_only_with_32_bit_fields(
    mailbox: str, validity: object, uid: object
) -> None:
    raw = json.dumps({"m": mailbox, "v": validity, "u": uid}, ensure_ascii=False).encode()
    cursor = envelope("imap", raw)
    try:
        state = Cursor.decode(cursor, mailbox=mailbox)
    except InvalidInput:
        return
    assert state is not None
    assert type(validity) is int and 1 <= validity < 2**32
    assert type(uid) is int and 0 <= uid < 2**32


@FUZZ
@given(
    watermark=big_ints | st.floats() | st.none() | st.text(max_size=3),
    seen=st.lists(
        st.tuples(st.text(max_size=30) | big_ints, big_ints | st.floats() | st.text(max_size=3)),
        max_size=20,
    ),
)
def test_near_valid_maildir_cursors_are_decoded_only_with_64_bit_times(
    watermark: object, seen: list[tuple[object, object]]
) -> None:
    raw = json.dumps({"w": watermark, "s": seen}).encode()
    try:
        state = MaildirCursor.decode(envelope("maildir", raw))
    except InvalidInput:
        return
    assert all(type(t) is int and -(2**63) < t < 2**63 for _, t in seen)
    assert state.seen == dict(seen)


@FUZZ
@given(
    watermark=st.none() | st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    seen=st.dictionaries(st.text(max_size=60), st.integers(-(2**63) + 1, 2**63 - 1), max_size=30),
    mailbox=st.text(max_size=60),
    validity=st.integers(1, 2**32 - 1),
    uid=st.integers(0, 2**32 - 1),
)
def test_every_cursor_a_fetcher_issues_decodes_back(
    watermark: int | None, seen: dict[str, int], mailbox: str, validity: int, uid: int
) -> None:
    state = MaildirCursor(watermark, seen)
    assert MaildirCursor.decode(state.encode()) == state
    cursor = Cursor(mailbox, validity, uid)
    assert Cursor.decode(cursor.encode(), mailbox=mailbox) == cursor


# -- size: oversized cursors and compression bombs ----------------------------------------


@pytest.mark.parametrize(("name", "limit"), [("maildir", MAILDIR_MAX), ("imap", IMAP_MAX)])
@pytest.mark.parametrize("extra", [1, 1000, 10_000_000])
def test_a_cursor_over_the_size_limit_is_refused_before_decoding(
    name: str, limit: int, extra: int
) -> None:
    prefix = "md1." if name == "maildir" else "imap1."
    with pytest.raises(InvalidInput, match="longer than"):
        DECODERS[name](prefix + "A" * (limit + extra))


def _bomb(unit: bytes, mebibytes: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = unit * ((1 << 20) // len(unit))
    return b"".join(packer.compress(chunk) for _ in range(mebibytes)) + packer.flush()


@pytest.mark.parametrize(
    ("unit", "mebibytes"),
    [
        (b" ", 9),
        (b" ", 766),  # the size of the bomb fuzzing found (a 518 KB cursor)
        (b"[", 64),
        (b'{"w":', 64),
        (b'["k",1],', 64),
    ],
    ids=["spaces-9MiB", "spaces-766MiB", "brackets-64MiB", "objects-64MiB", "pairs-64MiB"],
)
def test_a_compression_bomb_is_refused_in_bounded_memory_and_time(
    unit: bytes, mebibytes: int
) -> None:
    cursor = "md1." + base64.urlsafe_b64encode(_bomb(unit, mebibytes)).decode()
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(InvalidInput, match=r"inflates to more than|longer than"):
            MaildirCursor.decode(cursor)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < BOUND_SECONDS
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB"


# -- through a gateway: a garbage cursor is REJECTED and touches no health -----------------


@pytest.mark.parametrize(
    "cursor",
    [
        "md1." + base64.urlsafe_b64encode(zlib.compress(b'{"w":1e400,"s":[]}')).decode(),
        "md1." + base64.urlsafe_b64encode(zlib.compress(b"[" * 100_000)).decode(),
        "md1." + base64.urlsafe_b64encode(_bomb(b" ", 64)).decode(),
        "imap1.e30",
        "x" * 5_000_000,
    ],
    ids=["overflow", "recursion", "bomb", "foreign", "huge"],
)
async def test_a_garbage_cursor_through_the_gateway_is_rejected_without_touching_health(
    tmp_path: Path, cursor: str
) -> None:
    gateway = Gateway.from_config(
        {
            "capabilities": {"reply_fetching": {"providers": ["inbox", "backup"]}},
            "providers": {
                "inbox": {"type": "maildir", "path": str(tmp_path / "a"), "create": True},
                "backup": {"type": "maildir", "path": str(tmp_path / "b"), "create": True},
            },
        },
        env={},
    )
    for _ in range(10):  # more than enough failures to open a breaker, were they counted
        outcome = await gateway.reply_fetching.fetch_replies(cursor)
        assert outcome.status is Status.REJECTED, outcome
        assert len(outcome.attempts) == 1  # no fallback: no provider would take it
    assert all(row["state"] == "closed" for row in gateway.status())
    ok = await gateway.reply_fetching.fetch_replies(None)
    assert ok.status is Status.OK
