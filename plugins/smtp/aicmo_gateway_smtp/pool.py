"""A small pool of logged-in SMTP sessions, reused across sends instead of one per message.

At most ``size`` sessions exist and each serves one send at a time, so at most
``size`` sends run at once; the others wait for a free session. A session goes
back to the pool only when the send left it in a known state (``lease.clean``);
anything else (a lost connection, a cancelled send, an unexpected error) closes
it. Before reuse a session is checked: a closed connection or one idle longer
than ``max_idle`` is replaced, and one idle longer than ``probe_after`` must
answer NOOP first.

The pool belongs to one event loop at a time. Used from another loop (a new
``asyncio.run``), it forgets the sessions of the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
from aiosmtplib import SMTP

from aicmo_gateway_smtp.connection import close_session, quit_session

__all__ = ["Lease", "SessionPool"]

#: an idle session older than this (seconds) must answer NOOP before it is reused
PROBE_AFTER = 5.0


@attrs.define
class Lease:
    """One session lent to one send."""

    client: SMTP
    opened_at: float
    idle_since: float
    #: messages sent on this session so far
    sent: int = 0
    #: the session served an earlier send (a failure on it may be staleness)
    reused: bool = False
    #: set by the borrower when the session is between transactions and fit for reuse
    clean: bool = False
    #: the pool's generation when lent; sessions lent before ``aclose()`` are not kept
    generation: int = 0


class SessionPool:
    """Lends logged-in sessions; opens new ones with ``opener``."""

    def __init__(
        self,
        opener: Callable[[], Awaitable[SMTP]],
        *,
        size: int,
        max_idle: float,
        probe_after: float = PROBE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._opener = opener
        self.size = size
        self.max_idle = max_idle
        self.probe_after = probe_after
        self._clock = clock
        self._idle: list[Lease] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._generation = 0
        #: sessions opened so far (for statistics and tests)
        self.opened = 0

    @property
    def idle(self) -> int:
        """Sessions open and waiting for a send."""
        return len(self._idle)

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or loop is not self._loop:
            for lease in self._idle:  # sessions of a previous loop cannot be used here
                close_session(lease.client)
            self._idle.clear()
            self._loop = loop
            self._slots = asyncio.Semaphore(self.size)
        return self._slots

    @contextlib.asynccontextmanager
    async def lease(self, *, fresh: bool = False) -> AsyncIterator[Lease]:
        """Lend a session for one send; ``fresh`` skips the idle ones and opens a new one."""
        async with self._bind():
            lease = None if fresh else await self._take_idle()
            if lease is None:
                client = await self._opener()
                self.opened += 1
                now = self._clock()
                lease = Lease(client, opened_at=now, idle_since=now)
            lease.clean = False
            lease.generation = self._generation
            try:
                yield lease
            finally:
                await self._give_back(lease)

    async def _take_idle(self) -> Lease | None:
        while self._idle:
            lease = self._idle.pop()  # the most recently used: the fewest sessions stay warm
            idle_for = self._clock() - lease.idle_since
            if not lease.client.is_connected:
                close_session(lease.client)
                continue
            if idle_for > self.max_idle:
                await quit_session(lease.client)
                continue
            if idle_for > self.probe_after and not await self._answers(lease.client):
                close_session(lease.client)
                continue
            lease.reused = True
            return lease
        return None

    async def _answers(self, client: SMTP) -> bool:
        try:
            await client.noop()
        except Exception:
            return False
        return client.is_connected

    async def _give_back(self, lease: Lease) -> None:
        if not (lease.clean and lease.client.is_connected):
            close_session(lease.client)
            return
        if (
            self.max_idle <= 0
            or lease.generation != self._generation
            or asyncio.get_running_loop() is not self._loop
        ):
            await quit_session(lease.client)
            return
        lease.idle_since = self._clock()
        self._idle.append(lease)

    async def aclose(self) -> None:
        """Close the idle sessions (politely, with QUIT); sessions in use close when returned."""
        idle, self._idle = self._idle, []
        self._generation += 1
        current = None
        with contextlib.suppress(RuntimeError):
            current = asyncio.get_running_loop()
        for lease in idle:
            if current is not None and current is self._loop:
                await quit_session(lease.client)
            else:
                close_session(lease.client)
