"""A closed gateway says so: every call after ``aclose()`` or the sync facade's ``close()``."""

from __future__ import annotations

import asyncio
import threading
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aicmo_gateway import Gateway, GatewayClosed, ProviderType, Status, hookimpl
from aicmo_gateway.facade import CLOSED as ASYNC_CLOSED
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage, SendReceipt
from aicmo_gateway.sync import CLOSED as SYNC_CLOSED

MESSAGE = EmailMessage(to="ada@example.com", subject="Hi", text="Hello")


class Recording:
    """A sender that records sends and closes in order; ``started`` is set by each send."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.started = threading.Event()

    async def send(self, msg):
        self.started.set()
        await asyncio.sleep(0.05)
        self.events.append("sent")
        return SendReceipt(message_id=msg.message_id)

    async def aclose(self):
        self.events.append("closed")


def gateway_with(provider: Recording) -> Gateway:
    @hookimpl
    def aicmo_email_senders():
        return [ProviderType(name="recording", factory=lambda: provider)]

    registry = Registry.from_plugins(
        {"t": types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)}
    )
    config = {
        "capabilities": {"email_sending": {"providers": ["box"]}},
        "providers": {"box": {"type": "recording"}},
    }
    return Gateway.from_config(config, registry=registry, env={})


def test_the_sync_facade_used_after_its_with_block_says_the_gateway_is_closed():
    with gateway_with(Recording()).sync() as g:
        assert g.email_sending.send(MESSAGE).status is Status.OK
    with pytest.raises(GatewayClosed, match=r"the gateway is closed") as info:
        g.email_sending.send(MESSAGE)
    assert "with gateway.sync() as g:" in str(info.value)
    assert isinstance(info.value, RuntimeError)  # what code catching the old error still sees
    with pytest.raises(GatewayClosed):
        g.check()


def test_every_thread_gets_the_closed_error_after_close():
    g = gateway_with(Recording()).sync()
    g.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(g.email_sending.send, MESSAGE) for _ in range(20)]
    errors = [f.exception() for f in futures]
    assert all(isinstance(e, GatewayClosed) for e in errors), errors


def test_closing_the_sync_facade_twice_closes_the_providers_once():
    provider = Recording()
    g = gateway_with(provider).sync()
    g.close()
    g.close()
    assert provider.events == ["closed"]


def test_close_waits_for_a_running_call_then_closes_the_providers():
    provider = Recording()
    g = gateway_with(provider).sync()
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(g.email_sending.send, MESSAGE)
        assert provider.started.wait(timeout=30)
        g.close()
        assert running.result(timeout=30).status is Status.OK
    assert provider.events == ["sent", "closed"]


def test_calls_racing_with_close_end_with_an_outcome_or_the_closed_error_never_a_hang():
    provider = Recording()
    g = gateway_with(provider).sync()
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(g.email_sending.send, MESSAGE) for _ in range(40)]
        assert provider.started.wait(timeout=30)
        g.close()
        results = [f.exception(timeout=30) or f.result() for f in futures]
    assert all(isinstance(r, GatewayClosed) or r.status is Status.OK for r in results), results
    assert provider.events[-1] == "closed"


async def test_the_async_gateway_after_aclose_says_it_is_closed():
    provider = Recording()
    gateway = gateway_with(provider)
    async with gateway:
        assert (await gateway.email_sending.send(MESSAGE)).status is Status.OK
    assert gateway.closed
    with pytest.raises(GatewayClosed, match=r"aclose\(\) was called") as info:
        await gateway.email_sending.send(MESSAGE)
    assert "Gateway.from_config" in str(info.value)
    with pytest.raises(GatewayClosed):
        await gateway.check()
    with pytest.raises(GatewayClosed):
        gateway.sync()
    await gateway.aclose()  # closing again does nothing
    assert provider.events == ["sent", "closed"]


def test_the_user_guide_quotes_both_closed_messages_as_the_code_raises_them():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "user-guide.md").read_text()
    assert f"GatewayClosed: {SYNC_CLOSED}\n" in guide
    assert f"GatewayClosed: {ASYNC_CLOSED}\n" in guide
