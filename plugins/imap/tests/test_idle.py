"""Waiting for new mail: IMAP IDLE with re-arming, polling without it, interruption."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from loguru import logger

from aicmo_gateway.errors import AuthError


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    logger.enable("aicmo_gateway_imap")
    sink = logger.add(
        lambda m: lines.append(m.record["message"]), level="DEBUG", filter="aicmo_gateway_imap"
    )
    yield lines
    logger.remove(sink)
    logger.disable("aicmo_gateway_imap")


def later(seconds: float, action: Any) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def timed_wait(fetcher: Any, cursor: str | None, timeout: float) -> tuple[bool, float]:
    started = time.monotonic()
    found = fetcher.wait_for_replies(cursor, timeout)
    return found, time.monotonic() - started


def test_idle_wakes_as_soon_as_a_message_arrives(
    make_fetcher: Any, mailroom: Any, raw_message: Any, log_lines: list[str]
):
    fetcher = make_fetcher(idle=True, poll_interval=60)
    cursor = fetcher.fetch_replies(None).cursor
    timer = later(0.5, lambda: mailroom.deliver(raw_message(1)))
    found, _ = timed_wait(fetcher, cursor, 20)
    timer.join()
    # pushed by the server: a 60 s poll could not have found it within the 20 s wait
    assert found is True
    assert not any("does not support IDLE" in line for line in log_lines)
    (reply,) = fetcher.fetch_replies(cursor).replies
    assert reply.message_id == "<reply-1@example.com>"


def test_idle_reads_responses_that_arrive_split_across_tcp_segments(
    make_fetcher: Any, mailroom: Any, raw_message: Any, splitting_forwarder: Any
):
    fetcher = make_fetcher(idle=True, poll_interval=60, port=splitting_forwarder.port)
    cursor = fetcher.fetch_replies(None).cursor
    for n in (1, 2):  # the kept connection reads each announcement whole, wait after wait
        timer = later(0.5, lambda n=n: mailroom.deliver(raw_message(n)))
        found, elapsed = timed_wait(fetcher, cursor, 20)
        timer.join()
        assert found is True and elapsed < 10
        (reply,) = fetcher.fetch_replies(cursor).replies
        assert reply.message_id == f"<reply-{n}@example.com>"
        cursor = fetcher.fetch_replies(cursor).cursor


def test_a_wait_returns_at_once_when_messages_are_already_waiting(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    fetcher = make_fetcher(idle=True, poll_interval=60)
    cursor = fetcher.fetch_replies(None).cursor
    mailroom.deliver(raw_message(1))
    found, _ = timed_wait(fetcher, cursor, 20)
    assert found is True  # nothing else arrives: only the waiting message can answer
    assert timed_wait(fetcher, None, 20)[0] is True  # no cursor: anything in the mailbox


def test_a_wait_with_nothing_new_returns_false_after_the_timeout(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    mailroom.deliver(raw_message(1))
    fetcher = make_fetcher(idle=True)
    cursor = fetcher.fetch_replies(None).cursor
    found, elapsed = timed_wait(fetcher, cursor, 1.0)
    assert found is False and 0.9 <= elapsed < 5


def test_idle_is_re_armed_before_the_rearm_period_and_still_sees_new_mail(
    make_fetcher: Any, mailroom: Any, raw_message: Any, log_lines: list[str]
):
    fetcher = make_fetcher(idle=True, idle_rearm_seconds=0.3, poll_interval=60)
    cursor = fetcher.fetch_replies(None).cursor
    # quiet waits until IDLE was re-armed twice (each wait re-arms every 0.3 s; a loaded
    # machine may need several waits for the server's answers, never an unbounded number)
    for _ in range(20):
        assert timed_wait(fetcher, cursor, 1.2)[0] is False
        if sum("re-arming IDLE" in line for line in log_lines) >= 2:
            break
    assert sum("re-arming IDLE" in line for line in log_lines) >= 2
    timer = later(0.8, lambda: mailroom.deliver(raw_message(1)))
    found, _ = timed_wait(fetcher, cursor, 20)
    timer.join()
    assert found is True  # within 20 s, with a 60 s poll: the re-armed IDLE saw it


def test_without_idle_the_mailbox_is_polled(make_fetcher: Any, mailroom: Any, raw_message: Any):
    fetcher = make_fetcher(idle=False, poll_interval=0.2)
    cursor = fetcher.fetch_replies(None).cursor
    timer = later(0.5, lambda: mailroom.deliver(raw_message(1)))
    found, _ = timed_wait(fetcher, cursor, 20)
    timer.join()
    assert found is True  # within 20 s, with a 60 s poll: the re-armed IDLE saw it


def test_a_server_without_idle_is_polled_and_the_log_says_so(
    make_fetcher: Any, mailroom: Any, raw_message: Any, no_idle_forwarder: Any, log_lines: list[str]
):
    fetcher = make_fetcher(idle=True, poll_interval=0.2, port=no_idle_forwarder.port)
    cursor = fetcher.fetch_replies(None).cursor
    timer = later(0.5, lambda: mailroom.deliver(raw_message(1)))
    found, _ = timed_wait(fetcher, cursor, 20)
    timer.join()
    assert found is True  # within 20 s, with a 60 s poll: the re-armed IDLE saw it
    assert any("does not support IDLE" in line for line in log_lines)


def test_a_renumbered_mailbox_ends_a_wait(make_fetcher: Any, mailroom: Any, raw_message: Any):
    fetcher = make_fetcher(idle=True)
    mailroom.deliver(raw_message(1))
    cursor = fetcher.fetch_replies(None).cursor
    mailroom.recreate()
    assert timed_wait(fetcher, cursor, 5)[0] is True


def test_close_ends_a_running_wait(make_fetcher: Any):
    fetcher = make_fetcher(idle=True)
    cursor = fetcher.fetch_replies(None).cursor
    results: list[tuple[bool, float]] = []
    waiter = threading.Thread(target=lambda: results.append(timed_wait(fetcher, cursor, 30)))
    waiter.start()
    time.sleep(0.7)
    fetcher.close()
    waiter.join(10)
    assert results and results[0][0] is False and results[0][1] < 10


def test_the_kept_connection_serves_several_waits(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    fetcher = make_fetcher(idle=True)
    cursor = fetcher.fetch_replies(None).cursor
    for n in (1, 2):
        timer = later(0.3, lambda n=n: mailroom.deliver(raw_message(n)))
        assert timed_wait(fetcher, cursor, 20)[0] is True
        timer.join()
        cursor = fetcher.fetch_replies(cursor).cursor


async def test_watch_yields_new_replies_as_they_arrive(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    fetcher = make_fetcher(idle=True, batch_size=2)
    for n in (1, 2, 3):
        mailroom.deliver(raw_message(n))
    seen: list[str | None] = []
    stream = fetcher.watch(None)
    async for batch in stream:
        seen += [reply.message_id for reply in batch.replies]
        if len(seen) == 3:
            later(0.3, lambda: mailroom.deliver(raw_message(4)))
        if len(seen) == 4:
            break
    await stream.aclose()
    await fetcher.aclose()
    assert seen == [f"<reply-{n}@example.com>" for n in (1, 2, 3, 4)]


async def test_cancelling_a_watch_frees_its_waiting_thread(make_fetcher: Any):
    fetcher = make_fetcher(idle=True)

    async def consume() -> None:
        async for _ in fetcher.watch(None):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.monotonic()
    await fetcher.aclose()
    assert time.monotonic() - started < 5


def test_with_start_new_a_wait_without_cursor_ignores_the_mailboxs_history(
    make_fetcher: Any, mailroom: Any, raw_message: Any
):
    mailroom.deliver(raw_message(1))
    fetcher = make_fetcher(idle=True, start="new")
    assert timed_wait(fetcher, None, 0.5)[0] is False
    timer = later(0.5, lambda: mailroom.deliver(raw_message(2)))
    assert timed_wait(fetcher, None, 20)[0] is True
    timer.join()


async def test_watch_survives_a_lost_connection(
    make_fetcher: Any, mailroom: Any, raw_message: Any, make_forwarder: Any, log_lines: list[str]
):
    relay = make_forwarder()
    fetcher = make_fetcher(idle=True, poll_interval=0.2, port=relay.port)
    mailroom.deliver(raw_message(1))
    seen: list[str | None] = []
    stream = fetcher.watch(None)
    async for batch in stream:
        seen += [reply.message_id for reply in batch.replies]
        if len(seen) == 1:
            later(0.5, relay.drop_connections)  # while the watch waits in IDLE
            later(1.5, lambda: mailroom.deliver(raw_message(2)))
        else:
            break
    await stream.aclose()
    await fetcher.aclose()
    assert seen == ["<reply-1@example.com>", "<reply-2@example.com>"]
    assert any("trying again" in line for line in log_lines)


async def test_watch_ends_with_an_auth_error(make_fetcher: Any):
    fetcher = make_fetcher(idle=True, password="wrong")
    with pytest.raises(AuthError):
        async for _ in fetcher.watch(None):
            pass
