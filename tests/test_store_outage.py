"""Redis going away is not an outage: calls go on with local state, one warning, and sharing
resumes by itself when Redis is back.

The gateway reaches the real Redis through a small TCP proxy the test controls; cutting the
proxy (closing its port and aborting its connections) stands for Redis going away. The
machine's Redis itself is never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from aicmo_gateway import Gateway
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.store import ProviderSpec
from aicmo_gateway.state.store.redis import RedisStore
from aicmo_gateway.testing import FakeProvider
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from tests.store_backends import REDIS_URL, delete_namespace, need_redis, redis_answers


class Proxy:
    """Forwards 127.0.0.1:<port> to Redis until :meth:`cut`; :meth:`restore` opens it again."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 6379)) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer)),
            asyncio.ensure_future(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        self._tasks.difference_update(pumps)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        if self._server is not None:
            await self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
async def proxy():
    need_redis()
    found = Proxy()
    await found.start()
    yield found
    await found.close()


@pytest.fixture
async def namespace():
    name = f"outage-{uuid.uuid4().hex[:12]}"
    yield name
    if redis_answers():
        await delete_namespace(name)


MESSAGE = EmailMessage(to="lead@example.com", sender="s@example.com", subject="Hi", text="Hi")


def _gateway(proxy: Proxy, namespace: str, primary: FakeProvider, backup: FakeProvider) -> Gateway:
    config = fake_config("email_sending", "primary", "backup")
    config["gateway"] = {"store": f"redis://127.0.0.1:{proxy.port}/0", "name": namespace}
    return Gateway.from_config(
        config, registry=fake_registry(primary=primary, backup=backup), env={}
    )


async def test_calls_go_on_through_a_redis_outage_with_one_warning_and_sharing_resumes(
    proxy, namespace, log_lines
):
    primary, backup = FakeProvider(name="primary"), FakeProvider(name="backup")
    gateway = _gateway(proxy, namespace, primary, backup)
    try:
        for i in range(5):
            assert (await gateway.email_sending.send(MESSAGE, idempotency_key=f"a{i}")).ok
        assert gateway.store_state()["reachable"]

        await proxy.cut()
        outcomes = [
            await gateway.email_sending.send(MESSAGE, idempotency_key=f"b{i}") for i in range(30)
        ]
        assert all(o.ok and o.provider == "primary" for o in outcomes)
        warnings = [line for line in log_lines if line.startswith("WARNING") and "store" in line]
        assert len(warnings) == 1 and "unreachable" in warnings[0]
        state = gateway.store_state()
        assert not state["reachable"] and state["unreachable_since"] and state["error"]

        await proxy.restore()
        # reconnection is tried in the background, with a backoff of at most 30 seconds
        give_up = asyncio.get_running_loop().time() + 40
        i = 0
        while asyncio.get_running_loop().time() < give_up:
            i += 1
            assert (await gateway.email_sending.send(MESSAGE, idempotency_key=f"r{i}")).ok
            if gateway.store_state()["reachable"]:
                break
            await asyncio.sleep(0.05)
        assert gateway.store_state()["reachable"]

        # sharing resumed: a cooldown another process records is obeyed here
        other = RedisStore(REDIS_URL, namespace)
        try:
            handle = other.provider("primary", ProviderSpec())
            handle.failed(counted=False, cooldown=60.0, reason="RateLimited: 429")
            await handle.flush()
        finally:
            await other.aclose()
        outcome = await gateway.email_sending.send(MESSAGE, idempotency_key="c1")
        assert outcome.ok and outcome.provider == "backup"
        skip = outcome.attempts[0]
        assert skip.provider == "primary" and "the fleet" in (skip.detail or "")
        assert len([line for line in log_lines if line.startswith("WARNING")]) == 1
    finally:
        await gateway.aclose()


async def test_a_redis_that_never_answers_costs_calls_nothing_but_one_warning(namespace, log_lines):
    primary, backup = FakeProvider(name="primary"), FakeProvider(name="backup")
    config = fake_config("email_sending", "primary", "backup")
    # a port nothing listens on
    config["gateway"] = {"store": "redis://127.0.0.1:1/0", "name": namespace}
    gateway = Gateway.from_config(
        config, registry=fake_registry(primary=primary, backup=backup), env={}
    )
    try:
        for i in range(20):
            assert (await gateway.email_sending.send(MESSAGE, idempotency_key=f"k{i}")).ok
        # the ledger still protects keys in this process
        again = await gateway.email_sending.send(MESSAGE, idempotency_key="k3")
        assert again.ok and again.replayed_from is not None
        assert len(primary.performed) == 20
        assert len([line for line in log_lines if line.startswith("WARNING")]) == 1
    finally:
        await gateway.aclose()
