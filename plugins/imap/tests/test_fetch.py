"""Incremental fetching against a real IMAP server: the cursor, batches, flags, threading."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import ReplyBatch


def ids(batch: ReplyBatch) -> list[str | None]:
    return [reply.message_id for reply in batch.replies]


def test_the_first_fetch_returns_what_is_already_in_the_mailbox(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    for n in (1, 2):
        mailroom.deliver(raw_message(n))
    batch = make_fetcher().fetch_replies(None)
    assert ids(batch) == ["<reply-1@example.com>", "<reply-2@example.com>"]
    assert batch.has_more is False and batch.cursor is not None


def test_a_fetch_after_the_cursor_returns_only_newer_messages_and_none_twice(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    fetcher = make_fetcher()
    mailroom.deliver(raw_message(1))
    first = fetcher.fetch_replies(None)
    mailroom.deliver(raw_message(2))
    mailroom.deliver(raw_message(3))
    second = fetcher.fetch_replies(first.cursor)
    assert ids(second) == ["<reply-2@example.com>", "<reply-3@example.com>"]
    assert fetcher.fetch_replies(second.cursor).replies == ()


def test_the_last_message_is_not_returned_again_when_nothing_is_new(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    # IMAP's "UID n:*" matches the highest UID even when n is past it
    fetcher = make_fetcher()
    mailroom.deliver(raw_message(1))
    batch = fetcher.fetch_replies(None)
    for _ in range(3):
        again = fetcher.fetch_replies(batch.cursor)
        assert again.replies == () and again.has_more is False
        assert again.cursor == batch.cursor


def test_the_source_id_is_the_uid_and_received_at_is_the_arrival_time(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    mailroom.deliver(raw_message(1))
    mailroom.deliver(raw_message(2))
    replies = make_fetcher().fetch_replies(None).replies
    uids = [int(reply.source_id or "0") for reply in replies]
    assert uids == sorted(uids) and len(set(uids)) == 2
    for reply in replies:  # the INTERNALDATE (now), not the Date header (March 2026)
        assert reply.received_at is not None and reply.received_at.tzinfo is not None
        assert abs(reply.received_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_batch_size_limits_a_batch_and_has_more_says_more_are_waiting(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    for n in range(1, 6):
        mailroom.deliver(raw_message(n))
    fetcher = make_fetcher(batch_size=2)
    cursor, seen, flags = None, [], []
    for _ in range(3):
        batch = fetcher.fetch_replies(cursor)
        seen += ids(batch)
        flags.append(batch.has_more)
        cursor = batch.cursor
    assert seen == [f"<reply-{n}@example.com>" for n in range(1, 6)]
    assert flags == [True, True, False]
    assert fetcher.fetch_replies(cursor).replies == ()


def test_fetching_leaves_messages_unseen(make_fetcher: Any, mailroom: Any, raw_message: Any):
    mailroom.deliver(raw_message(1))
    mailroom.deliver(raw_message(2), flags="(\\Flagged)")
    assert "\\Seen" not in " ".join(mailroom.flags())
    make_fetcher().fetch_replies(None)
    flags = mailroom.flags()
    assert len(flags) == 2
    assert all("\\Seen" not in f for f in flags)
    assert "\\Flagged" in flags[1]


def test_threading_headers_are_parsed(make_fetcher: Any, mailroom: Any, raw_message: Any):
    mailroom.deliver(
        raw_message(
            4,
            In_Reply_To="<offer-4@example.com>",
            References="<root@example.com>\r\n <offer-4@example.com>",
        )
    )
    (reply,) = make_fetcher().fetch_replies(None).replies
    assert reply.message_id == "<reply-4@example.com>"
    assert reply.in_reply_to == "<offer-4@example.com>"
    assert reply.references == ("<root@example.com>", "<offer-4@example.com>")
    assert reply.thread_id == "<root@example.com>"
    assert reply.sender == "Lead 4 <lead4@example.com>"
    assert reply.to == ("sales@example.com",)
    assert reply.text.strip() == "Answer number 4."


def test_a_renumbered_mailbox_is_read_again_from_the_start_with_a_warning(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    fetcher = make_fetcher()
    mailroom.deliver(raw_message(1))
    before = fetcher.fetch_replies(None)
    old_validity = mailroom.uidvalidity()
    mailroom.recreate()
    assert mailroom.uidvalidity() != old_validity
    mailroom.deliver(raw_message(5))
    mailroom.deliver(raw_message(6))
    after = fetcher.fetch_replies(before.cursor)
    assert ids(after) == ["<reply-5@example.com>", "<reply-6@example.com>"]
    for reply in after.replies:
        assert any("UIDVALIDITY" in w and "from the start" in w for w in reply.warnings)
    again = fetcher.fetch_replies(after.cursor)  # the new epoch is in the cursor now
    assert again.replies == ()


def test_a_renumbered_empty_mailbox_gives_a_cursor_in_the_new_epoch(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    fetcher = make_fetcher()
    mailroom.deliver(raw_message(1))
    before = fetcher.fetch_replies(None)
    mailroom.recreate()
    after = fetcher.fetch_replies(before.cursor)
    assert after.replies == () and after.cursor != before.cursor
    mailroom.deliver(raw_message(2))
    assert ids(fetcher.fetch_replies(after.cursor)) == ["<reply-2@example.com>"]


def test_a_malformed_cursor_is_invalid_input_naming_the_cursor(make_fetcher: Any):
    fetcher = make_fetcher()
    for bad in ("not-a-cursor", "imap1.!!!", "imap1." + _encode({"m": "INBOX"})):
        with pytest.raises(InvalidInput, match="cursor") as caught:
            fetcher.fetch_replies(bad)
        assert caught.value.field == "cursor"


def test_a_cursor_for_another_mailbox_is_invalid_input(make_fetcher: Any, mailroom: Any):
    cursor = make_fetcher().fetch_replies(None).cursor
    other = make_fetcher(mailbox="INBOX")
    with pytest.raises(InvalidInput, match=f"issued for mailbox '{mailroom.mailbox}'"):
        other.fetch_replies(cursor)


def test_a_cursor_from_another_provider_type_is_invalid_input(make_fetcher: Any):
    with pytest.raises(InvalidInput, match="not a cursor issued by the imap reply fetcher"):
        make_fetcher().fetch_replies("md1.eJyrVkrOz0vOLy2JT8nPTXVPUrJSMDLSUcrPSylKTVGyUgAAnMgJYQ")


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_with_start_new_a_fetch_without_cursor_skips_the_mailboxs_history(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    for n in (1, 2):
        mailroom.deliver(raw_message(n))
    fetcher = make_fetcher(start="new")
    first = fetcher.fetch_replies(None)
    assert first.replies == () and first.has_more is False
    mailroom.deliver(raw_message(3))
    assert ids(fetcher.fetch_replies(first.cursor)) == ["<reply-3@example.com>"]


def test_with_start_new_an_empty_mailbox_gives_a_usable_cursor(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    fetcher = make_fetcher(start="new")
    first = fetcher.fetch_replies(None)
    mailroom.deliver(raw_message(1))
    assert ids(fetcher.fetch_replies(first.cursor)) == ["<reply-1@example.com>"]
