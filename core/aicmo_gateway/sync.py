"""The synchronous facade: the gateway's API without ``await``, safe from many threads."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from aicmo_gateway.facade import CLIENTS

if TYPE_CHECKING:
    from aicmo_gateway.gateway import CheckResult, Gateway

__all__ = ["SyncGateway"]

T = TypeVar("T")


class _LoopThread:
    """An event loop running in a daemon thread, for the synchronous facade."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="aicmo-gateway-sync", daemon=True)
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            raise RuntimeError("the synchronous gateway cannot be called from its own loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class _SyncClient:
    def __init__(self, client: Any, runner: _LoopThread) -> None:
        self._client = client
        self._runner = runner

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)
        if not inspect.iscoroutinefunction(method):
            return method  # type: ignore[no-any-return]

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._runner.run(method(*args, **kwargs))

        call.__doc__ = method.__doc__
        return call


class SyncGateway:
    """``Gateway`` without ``await``: ``gateway.sync().email_sending.send(message)``.

    Calls run on a private event loop thread, so any number of threads may call
    at once. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._runner = _LoopThread()
        for capability in CLIENTS:
            setattr(self, capability, _SyncClient(getattr(gateway, capability), self._runner))

    def __getattr__(self, name: str) -> Any:  # capability attributes are set in __init__
        raise AttributeError(name)

    def check(self, timeout: float = 10.0) -> list[CheckResult]:
        return self._runner.run(self.gateway.check(timeout))

    def close(self) -> None:
        self._runner.run(self.gateway.aclose())
        self._runner.stop()

    def __enter__(self) -> SyncGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
