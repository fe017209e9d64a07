"""The engine's clocks and the attempt watchdog: one timer per event loop for every timeout.

:func:`loop_time` is the one definition of "now" for the engine (the running loop's clock,
virtual under the test kit's virtual-time loop). :class:`Watchdog` enforces the per-attempt
timeout of every attempt in flight on a loop with a single timer handle, armed at the
earliest deadline, instead of one ``asyncio.timeout`` (a timer armed and cancelled) per
attempt. An attempt that outlives its deadline is cancelled at that deadline and ends
with ``TimeoutError``, exactly as under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
import weakref

__all__ = ["Watchdog", "loop_time", "wall_time", "watchdog"]


def loop_time() -> float:
    """The running loop's clock (virtual under a virtual-time loop), else monotonic time."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def wall_time() -> float:
    """Wall-clock seconds that advance with the loop's clock (for quota periods)."""
    return time.time() - time.monotonic() + loop_time()


class Watchdog:
    """Attempt deadlines of every attempt in flight on one event loop, with one timer.

    :meth:`watch` registers the current task with its deadline and returns a ticket;
    :meth:`done` settles the ticket when the attempt ends and says whether the watchdog
    cancelled it (then the attempt ends with ``TimeoutError``). Deadlines sit in a heap;
    the timer is armed at the earliest one still in flight and re-armed when it fires.
    Settled tickets leave the heap when they reach its top (attempts mostly end in the order
    they started), else once they outnumber live ones (the heap is compacted).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int]] = []
        #: ticket -> (its task, the task's cancel count when watched)
        self._live: dict[int, tuple[asyncio.Task[object], int]] = {}
        #: tickets whose deadline passed while in flight: the watchdog cancelled their task
        self._fired: set[int] = set()
        self._tickets = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = math.inf

    def __len__(self) -> int:
        """Attempts being watched now."""
        return len(self._live)

    def watch(self, seconds: float, now: float) -> int:
        """Cancel the current task ``seconds`` after ``now`` (loop time) unless settled first."""
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("an attempt timeout needs to run inside a task")
        ticket = next(self._tickets)
        deadline = now + seconds
        self._live[ticket] = (task, task.cancelling())
        heap = self._heap
        heapq.heappush(heap, (deadline, ticket))
        if len(heap) > 64 and len(heap) > 2 * len(self._live):
            self._compact()
        if deadline < self._armed_for:
            self._arm(deadline)
        return ticket

    def done(self, ticket: int) -> bool:
        """Settle ``ticket``; ``True`` when its deadline passed and the watchdog cancelled it.

        Then the cancellation is taken back (``uncancel``) and the caller turns the
        ``CancelledError`` into ``TimeoutError`` if no one else cancelled the task too
        (:meth:`timed_out`).
        """
        live = self._live
        task, cancelling = live.pop(ticket)
        heap = self._heap
        while heap and heap[0][1] not in live:  # settled ones at the top leave at once
            heapq.heappop(heap)
        fired = self._fired
        if not fired or ticket not in fired:
            return False
        fired.discard(ticket)
        return task.uncancel() <= cancelling

    def _arm(self, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = deadline
        self._timer = self._loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer, self._armed_for = None, math.inf
        now, heap, live = self._loop.time(), self._heap, self._live
        while heap and heap[0][0] <= now:
            _, ticket = heapq.heappop(heap)
            watched = live.get(ticket)
            if watched is not None and ticket not in self._fired:
                self._fired.add(ticket)
                watched[0].cancel()
        while heap and heap[0][1] not in live:  # settled: no need to wake up for them
            heapq.heappop(heap)
        if heap:
            self._arm(heap[0][0])

    def _compact(self) -> None:
        self._heap = [(d, t) for d, t in self._heap if t in self._live]
        heapq.heapify(self._heap)


_WATCHDOGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watchdog] = (
    weakref.WeakKeyDictionary()
)
_LAST: tuple[asyncio.AbstractEventLoop | None, Watchdog | None] = (None, None)


def watchdog(loop: asyncio.AbstractEventLoop) -> Watchdog:
    """The running loop's watchdog (one per loop, made on first use)."""
    global _LAST
    last_loop, last = _LAST
    if last_loop is loop and last is not None:
        return last
    found = _WATCHDOGS.get(loop)
    if found is None:
        found = _WATCHDOGS[loop] = Watchdog(loop)
    _LAST = (loop, found)
    return found
