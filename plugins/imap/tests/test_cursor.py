"""The IMAP fetcher's cursor: what it issues decodes back; anything else is InvalidInput."""

from __future__ import annotations

import base64

import pytest
from aicmo_gateway_imap.cursor import MAX_CURSOR_CHARS, Cursor
from aicmo_gateway_imap.fetcher import ImapReplyFetcher

from aicmo_gateway.errors import InvalidInput


def encoded(text: bytes) -> str:
    return "imap1." + base64.urlsafe_b64encode(text).decode().rstrip("=")


def refused(cursor: object, mailbox: str = "INBOX") -> InvalidInput:
    """Refused by ``fetch_replies`` before it connects (no server listens on port 1)."""
    fetcher = ImapReplyFetcher.from_settings(
        host="127.0.0.1", port=1, security="none", username="u", password="p", mailbox=mailbox
    )
    with pytest.raises(InvalidInput) as caught:
        fetcher.fetch_replies(cursor)  # type: ignore[arg-type]
    assert caught.value.field == "cursor"
    assert "None to read the mailbox from the start" in str(caught.value)
    return caught.value


@pytest.mark.parametrize("mailbox", ["INBOX", "Entwürfe/Ответы", 'a "quoted" \\ name', "\x7f\t"])
def test_an_issued_cursor_decodes_to_the_same_state(mailbox: str) -> None:
    cursor = Cursor(mailbox, 2**32 - 1, 2**32 - 1)
    assert Cursor.decode(cursor.encode(), mailbox=mailbox) == cursor
    assert Cursor.decode(None, mailbox=mailbox) is None


def test_deeply_nested_json_is_refused_not_a_recursion_error() -> None:
    error = refused(encoded(b'{"m":' + b"[" * 100_000 + b"]" * 100_000 + b',"v":1,"u":1}'))
    assert "not a cursor issued by the imap reply fetcher" in str(error)


@pytest.mark.parametrize(
    ("validity", "uid"), [(0, 1), (2**32, 1), (1, 2**32), (10**30, 1), (1, -1)]
)
def test_uidvalidity_and_uids_must_be_32_bit_unsigned(validity: int, uid: int) -> None:
    refused(encoded(f'{{"m":"INBOX","v":{validity},"u":{uid}}}'.encode()))


@pytest.mark.parametrize(
    "text",
    [
        b'{"m":"INBOX","v":1e400,"u":1}',
        b'{"m":"INBOX","v":1.0,"u":1}',
        b'{"m":"INBOX","v":true,"u":1}',
        b'{"m":["INBOX"],"v":1,"u":1}',
        b'{"m":"INBOX","v":01,"u":1}',
        b'{"m":"INBOX","v":1,"u":1,"x":2}',
        b'{"m":"INBOX","v":1}',
        b"\xff",
    ],
)
def test_content_not_in_the_form_the_fetcher_writes_is_refused(text: bytes) -> None:
    refused(encoded(text))


def test_an_oversized_cursor_is_refused_before_decoding() -> None:
    error = refused("imap1." + "A" * MAX_CURSOR_CHARS)
    assert "longer than" in str(error)
    assert len(str(error)) < 400


@pytest.mark.parametrize("cursor", [b"imap1.", 7, "", "md1.eJw", "imap1.%%", "imap1.A"])
def test_other_garbage_is_refused(cursor: object) -> None:
    refused(cursor)
