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


#: at most this many attempt lengths get a queue of their own (:class:`Watchdog`); the
#: rest (per-call deadlines make many lengths) share the heap
_QUEUES = 15
#: a ticket's low bits name its queue (0: the heap); the rest is a serial number
_BITS = 4
_MASK = (1 << _BITS) - 1


class Watchdog:
    """Attempt deadlines of every attempt in flight on one event loop, with one timer.

    :meth:`watch` registers the current task with its deadline and returns a ticket;
    :meth:`done` settles the ticket when the attempt ends and says whether the watchdog
    cancelled it (then the attempt ends with ``TimeoutError``). The timer is armed at the
    earliest deadline still in flight and re-armed when it fires.

    Attempts of one length (a chain's ``attempt_timeout``: most of them) are kept per length
    in a dict in the order they were watched, which is their deadlines' order: the loop's
    clock never goes back. Watching and settling one is a dict insert and a pop, whatever
    the number in flight (a heap would cost a push and a pop of ``log n`` comparisons each:
    with 1,000 writes in flight, about a tenth of a call). An attempt whose deadline would
    come before the last of its length (its start was read before an ``await``), and
    lengths beyond the first :data:`_QUEUES`, go to a heap.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        #: attempt length -> (the queue's number, its tickets in flight in deadline order)
        self._lengths: dict[float, tuple[int, dict[int, _Watched]]] = {}
        #: per queue number: its tickets in flight (0: those in the heap)
        self._queues: list[dict[int, _Watched]] = [{}]
        #: per queue number: the deadline of its last ticket (a later one keeps the order)
        self._last: list[float] = [math.inf]
        self._heap: list[tuple[float, int]] = []
        #: tickets whose deadline passed while in flight: the watchdog cancelled their task
        self._fired: set[int] = set()
        self._serials = itertools.count(1)
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = math.inf

    def __len__(self) -> int:
        """Attempts being watched now."""
        return sum(len(queue) for queue in self._queues)

    def watch(self, seconds: float, now: float) -> int:
        """Cancel the current task ``seconds`` after ``now`` (loop time) unless settled first."""
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("an attempt timeout needs to run inside a task")
        deadline = now + seconds
        found = self._lengths.get(seconds)
        if found is None:
            found = self._queue_for(seconds)
        number, queue = found
        if number and deadline >= self._last[number]:
            self._last[number] = deadline
        else:  # out of order, or a length without a queue: the heap keeps it
            number, queue = 0, self._queues[0]
        ticket = next(self._serials) << _BITS | number
        queue[ticket] = (deadline, task, task.cancelling())
        if number == 0:
            heap = self._heap
            heapq.heappush(heap, (deadline, ticket))
            if len(heap) > 64 and len(heap) > 2 * len(queue):
                self._compact()
        if deadline < self._armed_for:
            self._arm(deadline)
        return ticket

    def done(self, ticket: int) -> bool:
        """Settle ``ticket``; ``True`` when its deadline passed and the watchdog cancelled it.

        Then the cancellation is taken back (``uncancel``) and the caller turns the
        ``CancelledError`` into ``TimeoutError`` if no one else cancelled the task too.
        """
        number = ticket & _MASK
        _, task, cancelling = self._queues[number].pop(ticket)
        if number == 0:
            heap, live = self._heap, self._queues[0]
            while heap and heap[0][1] not in live:  # settled ones at the top leave at once
                heapq.heappop(heap)
        fired = self._fired
        if not fired or ticket not in fired:
            return False
        fired.discard(ticket)
        return task.uncancel() <= cancelling

    def _queue_for(self, seconds: float) -> tuple[int, dict[int, _Watched]]:
        """The queue of attempts of this length; the heap's once every queue is taken."""
        if len(self._queues) > _QUEUES:
            return 0, self._queues[0]
        found = self._lengths[seconds] = (len(self._queues), {})
        self._queues.append(found[1])
        self._last.append(-math.inf)
        return found

    def _arm(self, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = deadline
        self._timer = self._loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer, self._armed_for = None, math.inf
        now, fired = self._loop.time(), self._fired
        late: list[tuple[int, _Watched]] = []
        for number, queue in enumerate(self._queues):
            if number:
                for ticket, watched in queue.items():
                    if watched[0] > now:
                        break
                    late.append((ticket, watched))
        heap, live = self._heap, self._queues[0]
        while heap and heap[0][0] <= now:
            _, ticket = heapq.heappop(heap)
            in_heap = live.get(ticket)
            if in_heap is not None:
                late.append((ticket, in_heap))
        for ticket, watched in late:
            if ticket not in fired:
                fired.add(ticket)
                watched[1].cancel()
        while heap and heap[0][1] not in live:  # settled: no need to wake up for them
            heapq.heappop(heap)
        earliest = heap[0][0] if heap else math.inf
        for number, queue in enumerate(self._queues):
            if number:
                for watched in queue.values():  # the first still in flight and not fired
                    if watched[0] > now:
                        earliest = min(earliest, watched[0])
                        break
        if earliest < math.inf:
            self._arm(earliest)

    def _compact(self) -> None:
        live = self._queues[0]
        self._heap = [(d, t) for d, t in self._heap if t in live]
        heapq.heapify(self._heap)


#: a watched attempt: its deadline (loop time), its task, the task's cancel count then
_Watched = tuple[float, "asyncio.Task[object]", int]


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
