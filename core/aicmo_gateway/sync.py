"""The synchronous facade: the gateway's API without ``await``, safe from many threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from aicmo_gateway.errors import GatewayClosed
from aicmo_gateway.facade import CLIENTS

if TYPE_CHECKING:
    from aicmo_gateway.gateway import CheckResult, Gateway
    from aicmo_gateway.state.outbox import Outbox, ReplayReport, Row, RowState

__all__ = ["SyncGateway", "SyncOutbox"]

T = TypeVar("T")

#: what a call on a closed synchronous facade raises
CLOSED = (
    "the gateway is closed (close() was called, or its `with gateway.sync() as g:` block "
    "ended): make every call inside the `with` block, or build a new one with "
    "Gateway.from_config(...).sync()"
)


class _LoopThread:
    """An event loop running in a daemon thread, for the synchronous facade."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._running: set[concurrent.futures.Future[Any]] = set()
        self.thread = threading.Thread(target=self._run, name="aicmo-gateway-sync", daemon=True)
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def run(self, call: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``call()`` on the loop and wait for it; :class:`GatewayClosed` once closed."""
        if threading.current_thread() is self.thread:
            raise RuntimeError("the synchronous gateway cannot be called from its own loop")
        with self._lock:  # the coroutine is made only when it will run: none is left un-awaited
            if self._closed:
                raise GatewayClosed(CLOSED)
            future = asyncio.run_coroutine_threadsafe(call(), self.loop)
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future.result()

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._running.discard(future)

    def close(self, last: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Refuse new calls, let running ones finish, run ``last()``, then stop the loop."""
        if threading.current_thread() is self.thread:
            raise RuntimeError("the synchronous gateway cannot be closed from its own loop")
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running)
        try:
            concurrent.futures.wait(running)
            asyncio.run_coroutine_threadsafe(last(), self.loop).result()
        finally:
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
            return self._runner.run(lambda: method(*args, **kwargs))

        call.__doc__ = method.__doc__
        return call


class SyncOutbox:
    """``gateway.outbox`` without ``await``: ``gateway.sync().outbox.replay()``.

    The same methods as :class:`~aicmo_gateway.state.outbox.Outbox`, run on the facade's
    loop thread, so replay sends rows through the same providers as the facade's calls.
    """

    def __init__(self, outbox: Outbox, runner: _LoopThread) -> None:
        self._outbox = outbox
        self._runner = runner

    def replay(self, *, limit: int | None = None) -> ReplayReport:
        """Claim the due rows (at most ``limit``, default one batch) and send each once."""
        return self._runner.run(lambda: self._outbox.replay(limit=limit))

    def retry(self, row_id: int) -> Row | None:
        """Replay one row now, whatever its state (a held row is replayed only this way)."""
        return self._runner.run(lambda: self._outbox.retry(row_id))

    def get(self, row_id: int) -> Row | None:
        return self._runner.run(lambda: self._outbox.get(row_id))

    def rows(self, state: RowState | None = None, limit: int = 100) -> list[Row]:
        return self._runner.run(lambda: self._outbox.rows(state, limit))

    def counts(self) -> dict[str, int]:
        return self._runner.run(self._outbox.counts)

    def purge(self, states: tuple[RowState, ...] | None = None, older_than: float = 0.0) -> int:
        """Delete rows in ``states`` (done only by default; done and dead allowed)."""
        if states is None:
            return self._runner.run(lambda: self._outbox.purge(older_than=older_than))
        return self._runner.run(lambda: self._outbox.purge(states, older_than))


class SyncGateway:
    """``Gateway`` without ``await``: ``gateway.sync().email_sending.send(message)``.

    Calls run on a private event loop thread, so any number of threads may call
    at once. Use it as a context manager, or call :meth:`close`; every call after
    that raises :class:`~aicmo_gateway.GatewayClosed`, from any thread.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._runner = _LoopThread()
        for capability in CLIENTS:
            setattr(self, capability, _SyncClient(getattr(gateway, capability), self._runner))
        #: ``gateway.suppression`` without ``await``: ``add``, ``remove``, ``check``, ``list``
        self.suppression = _SyncClient(gateway.suppression, self._runner)
        #: ``gateway.outbox`` without ``await`` (``None`` without ``[gateway] outbox``)
        self.outbox = (
            SyncOutbox(gateway.outbox, self._runner) if gateway.outbox is not None else None
        )

    def __getattr__(self, name: str) -> Any:  # capability attributes are set in __init__
        raise AttributeError(name)

    def check(self, timeout: float = 10.0) -> list[CheckResult]:
        return self._runner.run(lambda: self.gateway.check(timeout))

    def close(self) -> None:
        """Wait for running calls, close the gateway's providers and stop the loop thread.

        Closing again does nothing.
        """
        self._runner.close(self.gateway.aclose)

    def __enter__(self) -> SyncGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
