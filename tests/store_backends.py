"""The shared-state backends the store tests run against: memory, SQLite and the real Redis.

Each Redis test gets its own namespace and deletes its keys afterwards. Redis at
127.0.0.1:6379 is used when it answers; without it the Redis cases are skipped with a
message, never when ``CI`` is set.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REDIS_URL = os.environ.get("AICMO_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def need_redis() -> None:
    """Skip (locally, with a message) when Redis does not answer; under CI, fail instead."""
    if redis_answers():
        return
    if os.environ.get("CI"):
        pytest.fail("Redis at 127.0.0.1:6379 is needed (CI is set: not skipping)")
    pytest.skip("Redis at 127.0.0.1:6379 does not answer: start it to run the Redis cases")


async def delete_namespace(namespace: str, url: str = REDIS_URL) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"aicmo:{namespace}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def keys_without_ttl(namespace: str, url: str = REDIS_URL) -> list[str]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        found = []
        async for key in client.scan_iter(match=f"aicmo:{namespace}:*", count=500):
            if await client.ttl(key) < 0:
                found.append(key)
        return found
    finally:
        await client.aclose()


class Backend:
    """Opens stores that share one backend, as separate processes would; closes them all."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.namespace = f"test-{uuid.uuid4().hex[:12]}"
        self.path = tmp_path / "state.db"
        self.opened: list[Any] = []
        self._memory: Any = None

    def open(self, namespace: str | None = None) -> Any:
        namespace = namespace or self.namespace
        if self.kind == "memory":
            from aicmo_gateway.state.store.memory import MemoryStore

            if namespace != self.namespace:
                store: Any = MemoryStore()
            else:
                if self._memory is None:
                    self._memory = MemoryStore()
                store = self._memory
        elif self.kind == "sqlite":
            from aicmo_gateway.state.store.sqlite import SqliteStore

            store = SqliteStore(self.path, namespace)
        else:
            from aicmo_gateway.state.store.redis import RedisStore

            store = RedisStore(REDIS_URL, namespace)
        self.opened.append(store)
        return store

    @property
    def url(self) -> str:
        return {"memory": "memory", "sqlite": f"sqlite:///{self.path}", "redis": REDIS_URL}[
            self.kind
        ]

    async def close(self) -> None:
        for store in self.opened:
            await store.aclose()
        if self.kind == "redis":
            await delete_namespace(self.namespace)


BackendFactory = Callable[[], Backend]
