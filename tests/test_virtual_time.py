"""Virtual time: timers run in virtual seconds, instantly, in order; threads still work."""

from __future__ import annotations

import asyncio
import socket
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio.plugin

from aicmo_gateway.testing.virtual_time import (
    VirtualClock,
    VirtualEventLoop,
    current_clock,
    loop_time,
    run_virtual,
    virtual_loop,
    wall_now,
)

pytest_plugins = ["pytester"]


def test_sleeping_an_hour_takes_no_real_time() -> None:
    async def main() -> float:
        await asyncio.sleep(3600)
        return loop_time()

    began = time.perf_counter()
    assert run_virtual(main()) == 3600.0
    assert time.perf_counter() - began < 1.0


def test_the_clock_starts_where_asked() -> None:
    async def main() -> tuple[float, float]:
        start = loop_time()
        await asyncio.sleep(5)
        return start, loop_time()

    assert run_virtual(main(), start=1_000_000.0) == (1_000_000.0, 1_000_005.0)


def test_timers_fire_in_order_of_their_time_and_equal_times_in_scheduling_order() -> None:
    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []
        for name, delay in [
            ("c", 30.0),
            ("a", 10.0),
            ("b1", 20.0),
            ("b2", 20.0),
            ("d", 86_400 * 3),
        ]:
            loop.call_later(delay, lambda n=name: fired.append((n, loop.time())))
        await asyncio.sleep(86_400 * 3 + 1)
        return fired

    assert run_virtual(main()) == [
        ("a", 10.0),
        ("b1", 20.0),
        ("b2", 20.0),
        ("c", 30.0),
        ("d", 259_200.0),
    ]


def test_a_timeout_fires_at_its_virtual_deadline() -> None:
    async def main() -> float:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await asyncio.sleep(3600)
        return loop_time()

    assert run_virtual(main()) == 1.5


def test_wait_for_times_out_and_a_fast_enough_call_does_not() -> None:
    async def main() -> tuple[str, float]:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10), timeout=2)
        at = loop_time()
        result = await asyncio.wait_for(asyncio.sleep(9, result="done"), timeout=10)
        return result, at

    assert run_virtual(main()) == ("done", 2.0)


def test_many_sleepers_gathered_finish_at_the_longest_sleep() -> None:
    async def sleeper(i: int) -> float:
        await asyncio.sleep(i % 100)
        return loop_time()

    async def main() -> tuple[list[float], float]:
        woke = await asyncio.gather(*(sleeper(i) for i in range(5000)))
        return woke, loop_time()

    began = time.perf_counter()
    woke, end = run_virtual(main())
    assert woke == [float(i % 100) for i in range(5000)]
    assert end == 99.0
    assert time.perf_counter() - began < 5.0


def test_to_thread_work_completes_and_the_clock_waits_for_it() -> None:
    def work(x: int) -> int:
        time.sleep(0.05)
        return x * 2

    async def main() -> tuple[int, float]:
        async with asyncio.timeout(1):  # a jump would fire this before the thread finished
            result = await asyncio.to_thread(work, 21)
        return result, loop_time()

    result, at = run_virtual(main())
    assert result == 42
    assert 0.04 <= at < 1.0  # the clock moved by the real time waited, not by a jump


def test_a_sleeper_alongside_a_thread_still_jumps_once_the_thread_is_done() -> None:
    async def main() -> tuple[list[object], float]:
        done = await asyncio.gather(
            asyncio.sleep(3600, result="slept"), asyncio.to_thread(lambda: "threaded")
        )
        return list(done), loop_time()

    began = time.perf_counter()
    done, at = run_virtual(main())
    assert done == ["slept", "threaded"]
    assert at == pytest.approx(3600.0)
    assert time.perf_counter() - began < 1.0


def test_a_thread_slower_than_its_timeout_times_out_and_its_error_is_kept() -> None:
    release = threading.Event()

    def blocked() -> None:
        release.wait(5)

    def failing() -> None:
        raise ValueError("boom")

    async def main() -> float:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await asyncio.to_thread(blocked)
        release.set()
        with pytest.raises(ValueError, match="boom"):
            await asyncio.to_thread(failing)
        return loop_time()

    assert run_virtual(main()) >= 0.05


def test_executor_work_is_tracked_until_it_is_handed_back() -> None:
    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualEventLoop)
        future = loop.run_in_executor(None, time.sleep, 0.01)
        during = loop.outstanding_executor_work
        await future
        return during, loop.outstanding_executor_work

    assert run_virtual(main()) == (1, 0)


def test_the_clock_is_reachable_inside_and_advances_by_hand() -> None:
    epoch = datetime(2026, 1, 1, tzinfo=UTC)

    async def main() -> tuple[float, datetime, int]:
        clock = current_clock()
        fired: list[float] = []
        asyncio.get_running_loop().call_later(60, lambda: fired.append(loop_time()))
        clock.advance(90)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return fired[0], wall_now(), clock.jumps

    fired_at, wall, jumps = run_virtual(main(), clock=VirtualClock(epoch=epoch))
    assert fired_at == 90.0  # due timers run once the clock has passed them, without a jump
    assert wall == epoch + timedelta(seconds=90)
    assert jumps == 0


def test_current_clock_refuses_an_ordinary_loop() -> None:
    async def main() -> None:
        current_clock()

    with pytest.raises(RuntimeError, match="not a VirtualEventLoop"):
        asyncio.run(main())


def test_wall_now_is_real_time_outside_a_virtual_loop() -> None:
    before = datetime.now(UTC)
    assert before <= wall_now() <= datetime.now(UTC)


def test_virtual_loop_is_a_context_manager_that_cleans_up_pending_tasks() -> None:
    cancelled: list[bool] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(10**9)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with virtual_loop(start=10.0) as loop:
        loop.create_task(forever())
        loop.run_until_complete(asyncio.sleep(7200))
        assert loop.time() == 7210.0
    assert loop.is_closed()
    assert cancelled == [True]


def test_real_socket_io_gets_the_threshold_to_answer_before_the_clock_jumps() -> None:
    async def read_with_timeout(sock: socket.socket) -> tuple[bytes, float]:
        reader, writer = await asyncio.open_connection(sock=sock)
        try:
            async with asyncio.timeout(30):
                return await reader.read(100), loop_time()
        finally:
            writer.close()
            await writer.wait_closed()

    ours, peer = socket.socketpair()
    with peer:
        answer = threading.Timer(0.01, peer.sendall, args=(b"pong",))
        answer.start()
        data, at = run_virtual(read_with_timeout(ours), autojump_threshold=2.0)
        answer.join()
    assert data == b"pong"
    assert at < 2.0  # the clock moved by the real time waited


def test_a_socket_that_never_answers_times_out_in_virtual_time() -> None:
    async def read_with_timeout(sock: socket.socket) -> float:
        reader, writer = await asyncio.open_connection(sock=sock)
        try:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(30):
                    await reader.read(100)
            return loop_time()
        finally:
            writer.close()
            await writer.wait_closed()

    ours, peer = socket.socketpair()
    with peer:
        began = time.perf_counter()
        assert run_virtual(read_with_timeout(ours)) == 30.0
        assert time.perf_counter() - began < 1.0


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="autojump_threshold"):
        VirtualEventLoop(autojump_threshold=-1)
    with pytest.raises(ValueError, match="advance"):
        VirtualClock().advance(-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(epoch=datetime(2026, 1, 1))


@pytest.mark.skipif(
    not hasattr(pytest_asyncio.plugin.PytestAsyncioSpecs, "pytest_asyncio_loop_factories"),
    reason="this pytest-asyncio has no pytest_asyncio_loop_factories hook",
)
def test_pytest_asyncio_runs_async_tests_in_virtual_time_through_a_loop_factory(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makeconftest(
        textwrap.dedent(
            """
            from aicmo_gateway.testing.virtual_time import VirtualEventLoop

            def pytest_asyncio_loop_factories(config, item):
                return {"virtual": VirtualEventLoop}
            """
        )
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import asyncio
            from aicmo_gateway.testing.virtual_time import current_clock

            async def test_a_day_passes():
                await asyncio.sleep(86400)
                assert current_clock().now == 86400
            """
        )
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
