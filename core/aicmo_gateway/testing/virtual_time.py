"""Virtual time for asyncio: an hour of ``asyncio.sleep`` in microseconds, deterministically.

A :class:`VirtualEventLoop` is asyncio's selector loop with a virtual clock. ``loop.time()``
reads the clock; whenever nothing is ready to run, the loop jumps the clock straight to the
next scheduled timer instead of waiting. ``asyncio.sleep``, ``asyncio.timeout``,
``asyncio.wait_for`` and ``loop.call_later`` all measure virtual seconds, so a scenario that
spans a day of provider outages runs in milliseconds and always the same way.

Three ways to use it::

    # 1. a synchronous test (or a benchmark): like asyncio.run
    def test_a_day_passes() -> None:
        assert run_virtual(main()) == ...

    # 2. a loop you drive yourself
    with virtual_loop() as loop:
        loop.run_until_complete(main())

    # 3. every async test of a directory under pytest-asyncio (>= 1.3), in its conftest.py
    def pytest_asyncio_loop_factories(config, item):
        return {"virtual": VirtualEventLoop}

(pytest-asyncio versions without that hook: call :func:`run_virtual` from a plain
``def`` test.) Inside the loop, :func:`current_clock` gives the clock:
``current_clock().now``, ``.advance(seconds)``, ``.wall()``.

What the clock does not skip:

- **Worker threads.** While work submitted with ``loop.run_in_executor`` (hence
  ``asyncio.to_thread``, and sync provider methods the chain runs in threads) is
  outstanding, the loop waits for it in real time and the clock advances by the real time
  waited. Such work completes correctly, but slowly in virtual terms; fakes should be
  ``async def``. Threads started any other way that call ``call_soon_threadsafe`` are not
  seen: the loop may jump past timers before their callbacks arrive.
- **Real I/O.** When sockets or pipes other than the loop's own are registered, the loop
  first waits up to ``autojump_threshold`` real seconds for them before jumping (the clock
  advances by the real time waited). A reply slower than that loses to the next timer.
- **Code that reads other clocks.** ``time.monotonic()``, ``time.time()`` and
  ``datetime.now()`` are real; code under test should use ``loop.time()`` for durations
  and deadlines to see virtual time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import selectors
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, TypeVarTuple

from aicmo_gateway.engine.clock import loop_time

__all__ = [
    "DEFAULT_AUTOJUMP_THRESHOLD",
    "VirtualClock",
    "VirtualEventLoop",
    "current_clock",
    "loop_time",
    "run_virtual",
    "virtual_loop",
    "wall_now",
]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

#: real seconds the loop waits for registered sockets/pipes before jumping the clock
DEFAULT_AUTOJUMP_THRESHOLD = 0.02


class VirtualClock:
    """The time a :class:`VirtualEventLoop` reports: seconds, advancing only by jumps.

    ``start`` is the first reading; ``epoch`` is the wall-clock time (UTC) that ``start``
    stands for, used by :meth:`wall` (default: the real time when the clock was made).
    """

    def __init__(self, start: float = 0.0, *, epoch: datetime | None = None) -> None:
        if not math.isfinite(start):
            raise ValueError(f"VirtualClock: start must be a finite number, got {start!r}")
        if epoch is not None and epoch.utcoffset() is None:
            raise ValueError("VirtualClock: epoch must be timezone-aware, e.g. tzinfo=UTC")
        self.start = float(start)
        self.epoch = epoch if epoch is not None else datetime.now(UTC)
        self._now = float(start)
        #: how many times the loop skipped ahead to a timer instead of waiting
        self.jumps = 0
        #: real seconds the loop spent waiting (for threads, I/O or a wake-up)
        self.real_waited = 0.0

    @property
    def now(self) -> float:
        """The current virtual time (what ``loop.time()`` returns)."""
        return self._now

    @property
    def elapsed(self) -> float:
        """Virtual seconds since ``start``."""
        return self._now - self.start

    def advance(self, seconds: float) -> None:
        """Move the clock forward; timers that became due run on the loop's next iteration."""
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ValueError(f"VirtualClock.advance: {seconds!r} must be a finite number >= 0")
        self._now += seconds

    def wall(self) -> datetime:
        """The virtual wall-clock time: ``epoch`` plus the virtual seconds elapsed."""
        return self.epoch + timedelta(seconds=self.elapsed)

    def _jump_to(self, when: float) -> None:
        if when > self._now:
            self._now = when
        else:  # a float too close to tell apart: still make progress
            self._now = math.nextafter(self._now, math.inf)
        self.jumps += 1

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now!r}, start={self.start!r}, jumps={self.jumps})"


class _Selector(selectors.BaseSelector):
    """The real selector, with ``select`` routed through the loop's jump logic."""

    def __init__(self) -> None:
        self.inner = selectors.DefaultSelector()
        self.owner: VirtualEventLoop | None = None

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self.inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self.inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self.inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if self.owner is None or (timeout is not None and timeout <= 0):
            return self.inner.select(timeout)
        return self.owner._idle(self.inner, timeout)

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self.inner.get_key(fileobj)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self.inner.get_map()

    def close(self) -> None:
        self.inner.close()


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector event loop with a virtual clock that jumps to the next timer.

    Usable as a loop factory (``asyncio.Runner(loop_factory=VirtualEventLoop)``,
    pytest-asyncio's ``pytest_asyncio_loop_factories``). See the module docstring for
    what is and is not skipped.
    """

    def __init__(
        self,
        *,
        start: float = 0.0,
        clock: VirtualClock | None = None,
        autojump_threshold: float = DEFAULT_AUTOJUMP_THRESHOLD,
    ) -> None:
        self.clock = clock if clock is not None else VirtualClock(start)
        self.autojump_threshold = autojump_threshold
        #: executor work not yet handed back to the loop (read and changed on the loop only)
        self._outstanding: set[concurrent.futures.Future[Any]] = set()
        self._default_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._joining_executor = 0
        selector = _Selector()
        super().__init__(selector)
        selector.owner = self
        #: the loop's own file descriptors (its self-pipe): never a reason to wait
        self._own_fds = len(selector.get_map())
        if not (autojump_threshold >= 0 and math.isfinite(autojump_threshold)):
            self.close()
            raise ValueError(
                f"VirtualEventLoop: autojump_threshold must be a finite number >= 0, "
                f"got {autojump_threshold!r}"
            )

    def time(self) -> float:
        return self.clock.now

    # -- executor work: tracked so the clock does not jump past it --------------------

    def set_default_executor(  # type: ignore[override]  # as asyncio's own stub
        self, executor: concurrent.futures.ThreadPoolExecutor
    ) -> None:
        super().set_default_executor(executor)
        self._default_pool = executor

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[[*Ts], T],
        *args: *Ts,
    ) -> asyncio.Future[T]:
        self._check_open()
        if executor is None:
            if self._default_pool is None:
                self.set_default_executor(
                    concurrent.futures.ThreadPoolExecutor(thread_name_prefix="asyncio")
                )
            executor = self._default_pool
        assert executor is not None
        work = executor.submit(func, *args)
        self._outstanding.add(work)
        result: asyncio.Future[T] = self.create_future()

        def settle() -> None:  # on the loop: the work's result arrives with its removal
            self._outstanding.discard(work)
            if result.done():
                return
            if work.cancelled():
                result.cancel()
            elif (error := work.exception()) is not None:
                result.set_exception(error)
            else:
                result.set_result(work.result())

        def finished(_: concurrent.futures.Future[T]) -> None:  # in the worker thread
            with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
                self.call_soon_threadsafe(settle)

        def cancelled(fut: asyncio.Future[T]) -> None:
            if fut.cancelled():
                work.cancel()  # only succeeds when the work has not started

        result.add_done_callback(cancelled)
        work.add_done_callback(finished)
        return result

    async def shutdown_default_executor(self, *args: Any, **kwargs: Any) -> None:
        # joining the pool's threads is real work: wait for it, do not jump past its timeout
        self._joining_executor += 1
        try:
            await super().shutdown_default_executor(*args, **kwargs)
        finally:
            self._joining_executor -= 1

    @property
    def outstanding_executor_work(self) -> int:
        """How many ``run_in_executor`` jobs have not yet been handed back to the loop."""
        return len(self._outstanding)

    def _check_open(self) -> None:
        if self.is_closed():
            raise RuntimeError("Event loop is closed")

    # -- the jump -----------------------------------------------------------------

    def _idle(
        self, inner: selectors.BaseSelector, timeout: float | None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        """Nothing is ready: wait for the real world if something real is pending, else jump.

        ``timeout`` is the virtual time to the next timer (``None``: no timer).
        """
        # read before polling: a job is removed only by the callback its thread scheduled
        busy = bool(self._outstanding) or self._joining_executor > 0
        events = inner.select(0)
        if events:
            return events
        if busy or timeout is None:
            return self._wait(inner, timeout)
        target = self.clock.now + timeout
        if self.autojump_threshold > 0 and len(inner.get_map()) > self._own_fds:
            events = self._wait(inner, min(timeout, self.autojump_threshold))
            if events:
                return events
        self.clock._jump_to(target)
        return []

    def _wait(
        self, inner: selectors.BaseSelector, timeout: float | None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        """Wait in real time; the clock advances by the real time spent."""
        before = self.clock.now
        began = time.perf_counter()
        events = inner.select(timeout)
        spent = time.perf_counter() - began
        self.clock.real_waited += spent
        self.clock._now += spent
        if not events and timeout is not None and self.clock.now < before + timeout:
            self.clock._now = before + timeout  # the wait ran out: the timer is due
        return events


def run_virtual(
    coro: Coroutine[Any, Any, T],
    *,
    start: float = 0.0,
    clock: VirtualClock | None = None,
    autojump_threshold: float = DEFAULT_AUTOJUMP_THRESHOLD,
    debug: bool | None = None,
) -> T:
    """Run ``coro`` to completion in virtual time, like ``asyncio.run``; return its result."""

    def factory() -> VirtualEventLoop:
        return VirtualEventLoop(start=start, clock=clock, autojump_threshold=autojump_threshold)

    with asyncio.Runner(debug=debug, loop_factory=factory) as runner:
        return runner.run(coro)


@contextlib.contextmanager
def virtual_loop(
    *,
    start: float = 0.0,
    clock: VirtualClock | None = None,
    autojump_threshold: float = DEFAULT_AUTOJUMP_THRESHOLD,
) -> Iterator[VirtualEventLoop]:
    """A fresh :class:`VirtualEventLoop` to drive with ``run_until_complete``; closed at exit.

    At exit, tasks still pending are cancelled and awaited, async generators and the
    default executor are shut down, as ``asyncio.run`` does.
    """
    loop = VirtualEventLoop(start=start, clock=clock, autojump_threshold=autojump_threshold)
    try:
        yield loop
    finally:
        try:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def current_clock() -> VirtualClock:
    """The clock of the running :class:`VirtualEventLoop`; ``RuntimeError`` on another loop."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualEventLoop):
        raise RuntimeError(
            f"current_clock(): the running loop is a {type(loop).__name__}, not a "
            "VirtualEventLoop; run the code with run_virtual() or virtual_loop()"
        )
    return loop.clock


def wall_now() -> datetime:
    """The current UTC time as the running loop sees it (virtual on a virtual loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return datetime.now(UTC)
    if isinstance(loop, VirtualEventLoop):
        return loop.clock.wall()
    return datetime.now(UTC)
