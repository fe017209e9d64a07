"""The ``reply_fetching`` conformance suite."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Reply, ReplyBatch
from aicmo_gateway.testing.conformance._base import (
    OptionalFailureChecks,
    PortConformance,
    call,
)
from aicmo_gateway.testing.poison import POISON

__all__ = ["ReplyFetcherConformance"]

#: the bound for fetching three messages, one of them poisoned: each took 10-34 s to parse
#: before the parser's limits, and takes well under a second with them. CPU seconds of the
#: test's process (every thread: parsing happens here), so a loaded machine does not fail it
POISON_SECONDS = 8.0


class ReplyFetcherConformance(OptionalFailureChecks, PortConformance):
    """Every ``reply_fetching`` provider.

    Fixtures to provide, besides those of :class:`PortConformance` (``service``, ``secrets``;
    until they are given, the failure and secret checks are skipped):

    ``provider``
        a constructed fetcher reading the mailbox that ``deliver`` writes to.
    ``deliver``
        a callable taking the raw bytes of one message and putting it in the
        mailbox, as a mail server would.
    """

    port: ClassVar[str] = "reply_fetching"

    def sample(self, operation: str) -> Any:
        return None  # the first fetch, without a cursor

    @pytest.fixture
    def deliver(self) -> Callable[[bytes], None]:
        raise NotImplementedError("provide a `deliver` fixture")

    @staticmethod
    def raw(n: int, **headers: str) -> bytes:
        lines = [
            f"From: Lead {n} <lead{n}@example.com>",
            "To: sales@example.com",
            f"Subject: Re: offer {n}",
            f"Message-ID: <reply-{n}@example.com>",
            "Date: Mon, 02 Mar 2026 10:00:00 +0000",
        ]
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + f"\r\n\r\nAnswer number {n}.\r\n").encode()

    def fetch(self, provider: Any, cursor: str | None) -> ReplyBatch:
        batch = call(provider.fetch_replies, cursor)
        assert isinstance(batch, ReplyBatch)
        return batch

    def test_an_empty_mailbox_gives_no_replies_and_a_usable_cursor(self, provider: Any) -> None:
        batch = self.fetch(provider, None)
        assert batch.replies == ()
        again = self.fetch(provider, batch.cursor)
        assert again.replies == ()

    def test_each_delivered_message_is_returned_once_in_order(
        self, provider: Any, deliver: Callable[[bytes], None]
    ) -> None:
        first = self.fetch(provider, None)
        for n in (1, 2):
            deliver(self.raw(n))
        batch = self.fetch(provider, first.cursor)
        assert [r.message_id for r in batch.replies] == [
            "<reply-1@example.com>",
            "<reply-2@example.com>",
        ]
        assert all(isinstance(r, Reply) for r in batch.replies)
        again = self.fetch(provider, batch.cursor)
        assert again.replies == ()
        deliver(self.raw(3))
        later = self.fetch(provider, batch.cursor)
        assert [r.message_id for r in later.replies] == ["<reply-3@example.com>"]

    def test_a_reply_is_parsed_with_threading_headers(
        self, provider: Any, deliver: Callable[[bytes], None]
    ) -> None:
        start = self.fetch(provider, None)
        deliver(
            self.raw(
                7,
                In_Reply_To="<offer-7@example.com>",
                References="<root@example.com> <offer-7@example.com>",
            )
        )
        (reply,) = self.fetch(provider, start.cursor).replies
        assert reply.sender is not None
        assert "lead7@example.com" in reply.sender
        assert reply.subject == "Re: offer 7"
        assert "Answer number 7." in reply.text
        assert reply.in_reply_to == "<offer-7@example.com>"
        assert reply.references == ("<root@example.com>", "<offer-7@example.com>")
        assert reply.thread_id == "<root@example.com>"

    def test_a_malformed_cursor_is_invalid_input(self, provider: Any) -> None:
        with pytest.raises(InvalidInput):
            self.fetch(provider, "not-a-cursor-%%%")

    def test_a_garbage_or_damaged_cursor_is_invalid_input_saying_to_start_over(
        self, provider: Any, deliver: Callable[[bytes], None]
    ) -> None:
        deliver(self.raw(1))
        issued = self.fetch(provider, None).cursor or ""
        prefix = issued.split(".", 1)[0] + "." if "." in issued else ""
        garbage = [
            "",
            "\x00",
            "x" * 1_000_000,
            prefix,
            prefix + "!!!!",
            prefix + "A" * 200_000,
            prefix + "W" * 64 + "=",
            issued + "AAAA",
            issued[:-3],
            issued * 1000,
            issued[::-1],
        ]
        for bad in garbage:
            if bad == issued:
                continue
            with pytest.raises(InvalidInput) as caught:
                self.fetch(provider, bad)
            message = str(caught.value)
            assert "cursor" in message, message
            assert "None" in message, message
            assert len(message) < 1_000, "the message must not echo the whole cursor"

    @pytest.mark.parametrize("shape", sorted(POISON))
    def test_a_poison_message_is_returned_quickly_with_warnings_and_its_neighbours_too(
        self, provider: Any, deliver: Callable[[bytes], None], shape: str
    ) -> None:
        start = self.fetch(provider, None)
        deliver(self.raw(1))
        deliver(POISON[shape]("<poison@example.com>"))
        deliver(self.raw(2))
        started = time.process_time()
        batch = self.fetch(provider, start.cursor)
        elapsed = time.process_time() - started
        assert [r.message_id for r in batch.replies] == [
            "<reply-1@example.com>",
            "<poison@example.com>",
            "<reply-2@example.com>",
        ]
        assert batch.replies[1].warnings, "a message cut to the limits says so"
        assert elapsed < POISON_SECONDS, f"{shape}: {elapsed:.1f}s for three messages"
        assert self.fetch(provider, batch.cursor).replies == ()
        deliver(self.raw(3))
        later = self.fetch(provider, batch.cursor)
        assert [r.message_id for r in later.replies] == ["<reply-3@example.com>"]
