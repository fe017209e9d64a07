"""Connection reuse: sends share a few logged-in sessions, which are checked before reuse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aicmo_gateway_smtp.plugin import smtp_sender
from aicmo_gateway_smtp.sender import SmtpSender

from aicmo_gateway.ports import EmailMessage


@pytest.fixture
async def sender(settings_for: Any) -> AsyncIterator[Callable[..., SmtpSender]]:
    made: list[SmtpSender] = []

    def make(server: Any, **changes: Any) -> SmtpSender:
        made.append(smtp_sender(**settings_for(server, **changes)))
        return made[-1]

    yield make
    for item in made:
        await item.aclose()


def message(n: int) -> EmailMessage:
    return EmailMessage(
        to=f"lead{n}@example.com", sender="sales@example.com", subject=f"Offer {n}", text="Hi."
    )


async def test_sequential_sends_share_one_connection(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server)
    for n in range(20):
        await provider.send(message(n))
    assert len(server.messages) == 20
    assert server.connections == 1
    assert provider.connections_opened == 1


async def test_concurrent_sends_open_one_connection_per_pool_slot(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server, pool_size=3)
    await asyncio.gather(*(provider.send(message(n)) for n in range(30)))
    assert sorted(m.rcpt_tos[0] for m in server.messages) == sorted(
        f"lead{n}@example.com" for n in range(30)
    )
    assert server.connections == 3


async def test_a_connection_the_server_closed_is_replaced(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server)
    await provider.send(message(1))
    server.drop_connections()
    await asyncio.sleep(0.2)
    await provider.send(message(2))
    assert len(server.messages) == 2
    assert server.connections == 2


async def test_a_dead_connection_found_at_mail_is_retried_on_a_new_one(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server)
    await provider.send(message(1))
    server.drop_connections()
    time.sleep(0.2)  # blocking on purpose: the client's loop does not see the close before MAIL
    receipt = await provider.send(message(2))
    assert receipt.accepted == ("lead2@example.com",)
    assert len(server.messages) == 2
    assert server.connections == 2


async def test_a_session_the_server_timed_out_is_retried_on_a_new_connection(smtp_server, sender):
    server = smtp_server("starttls", expire_reused_sessions=True)
    provider = sender(server)
    await provider.send(message(1))
    receipt = await provider.send(message(2))  # MAIL on the old session: 421 timeout
    assert receipt.accepted == ("lead2@example.com",)
    assert len(server.messages) == 2
    assert server.connections == 2


async def test_an_idle_connection_past_max_idle_is_closed_and_replaced(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server, max_idle=0.05)
    await provider.send(message(1))
    await asyncio.sleep(0.1)
    await provider.send(message(2))
    assert server.connections == 2
    assert server.handler.quits == 1


async def test_max_idle_zero_closes_the_connection_after_each_send(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server, max_idle=0)
    for n in range(3):
        await provider.send(message(n))
    assert server.connections == 3
    assert server.handler.quits == 3


async def test_aclose_says_quit_on_every_pooled_connection(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server, pool_size=2)
    await asyncio.gather(*(provider.send(message(n)) for n in range(4)))
    await provider.aclose()
    await asyncio.sleep(0.05)
    assert server.handler.quits == 2


async def test_a_sender_keeps_working_after_aclose(smtp_server, sender):
    server = smtp_server("starttls")
    provider = sender(server)
    await provider.send(message(1))
    await provider.aclose()
    await provider.send(message(2))
    assert len(server.messages) == 2


def test_a_sender_can_be_used_from_successive_event_loops(smtp_server, settings_for):
    server = smtp_server("starttls")
    provider = smtp_sender(**settings_for(server, max_idle=0))

    async def send(n: int) -> None:
        await provider.send(message(n))

    asyncio.run(send(1))
    asyncio.run(send(2))
    assert len(server.messages) == 2
