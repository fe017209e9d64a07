"""The Maildir fetcher's cursor: what it issues decodes back; anything else is InvalidInput."""

from __future__ import annotations

import base64
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from aicmo_gateway.builtin.maildir import MaildirReplyFetcher
from aicmo_gateway.builtin.maildir_cursor import MAX_CURSOR_CHARS, MaildirCursor
from aicmo_gateway.errors import InvalidInput


def packed(text: bytes) -> str:
    return "md1." + base64.urlsafe_b64encode(zlib.compress(text)).decode().rstrip("=")


Refused = Callable[[object], InvalidInput]


@pytest.fixture
def refused(tmp_path: Path) -> Refused:
    """Hand a cursor to ``fetch_replies``; return the ``InvalidInput`` it must raise."""
    fetcher = MaildirReplyFetcher(tmp_path / "Maildir", create=True)

    def refuse(cursor: object) -> InvalidInput:
        with pytest.raises(InvalidInput) as caught:
            fetcher.fetch_replies(cursor)  # type: ignore[arg-type]
        assert caught.value.field == "cursor"
        assert "not a cursor issued by the maildir reply fetcher" in str(caught.value)
        assert "None to start over" in str(caught.value)
        return caught.value

    return refuse


def test_an_issued_cursor_decodes_to_the_same_state() -> None:
    state = MaildirCursor(-5, {"1700000000.M1P2Q3.höst": -5, 'odd"\\key\x01': 2**63 - 1})
    assert MaildirCursor.decode(state.encode()) == state
    assert MaildirCursor.decode(MaildirCursor().encode()) == MaildirCursor()


def test_a_float_too_big_for_an_int_is_refused_not_an_overflow(refused: Refused) -> None:
    refused(packed(b'{"w":null,"s":[["k",1e400]]}'))
    refused(packed(b'{"w":1e400,"s":[]}'))


def test_deeply_nested_json_is_refused_not_a_recursion_error(refused: Refused) -> None:
    refused(packed(b'{"w":null,"s":' + b"[" * 100_000 + b"]" * 100_000 + b"}"))


@pytest.mark.parametrize(
    "text",
    [
        b'{"w":null}',
        b'{"w":"1","s":[]}',
        b'{"w":null,"s":[["k"]]}',
        b'{"w":null,"s":[[1,2]]}',
        b'{"w":null,"s":[["k",9223372036854775808]]}',
        b'{"w":null,"s":[["k",01]]}',
        b'{"w":null,"s":[],"x":1}',
        b"[1,2]",
        b"\xff\xfe",
    ],
)
def test_content_not_in_the_form_the_fetcher_writes_is_refused(
    refused: Refused, text: bytes
) -> None:
    refused(packed(text))


def test_a_compression_bomb_is_refused_without_inflating_it(refused: Refused) -> None:
    bomb = zlib.compressobj(9)
    chunks = [bomb.compress(b" " * (1 << 20)) for _ in range(256)]  # 256 MiB of spaces
    cursor = "md1." + base64.urlsafe_b64encode(b"".join(chunks) + bomb.flush()).decode()
    assert len(cursor) < MAX_CURSOR_CHARS
    tracemalloc.start()
    try:
        error = refused(cursor)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "inflates to more than" in str(error)
    assert peak < 64 * 1024 * 1024


def test_an_oversized_cursor_is_refused_before_decoding(refused: Refused) -> None:
    error = refused("md1." + "A" * MAX_CURSOR_CHARS)
    assert "longer than" in str(error)
    assert len(str(error)) < 400


@pytest.mark.parametrize("cursor", [b"md1.", 42, ["md1."], "imap1.e30", "", "md1.%%%", "md1.A"])
def test_other_garbage_is_refused(refused: Refused, cursor: object) -> None:
    refused(cursor)
