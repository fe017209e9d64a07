"""A row whose replayer stopped while sending it, on SQLite and the real PostgreSQL.

Such a row is found ``in_flight`` with its lease ended. It may have been performed, so it
is sent again only where every provider of its chain honours idempotency keys (pending,
after a backoff, the attempt counted); otherwise it is held for a decision.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from aicmo_gateway import Gateway
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.outbox import Outbox, Row, RowState, open_backend
from aicmo_gateway.state.outbox.backend import Settlement
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.profiles import fast_failure, healthy


class Crash(BaseException):
    """The replayer process dies here (not an error the outbox handles)."""


def gateway(url: str, fake: FakeProvider, **gateway_keys: Any) -> Gateway:
    config = fake_config("email_sending", "primary")
    config["gateway"] = {"outbox": url, "outbox_lease": "1m", **gateway_keys}
    return Gateway.from_config(config, registry=fake_registry(primary=fake), env={})


async def defer(gw: Gateway, fake: FakeProvider) -> int:
    """One pending row (every provider failed), the provider healthy again afterwards."""
    outcome = await gw.email_sending.send(
        EmailMessage(to=["lead@example.com"], subject="Hi", text="Hi"), idempotency_key="k"
    )
    fake.profile = healthy()
    return int(outcome.outbox_id or 0)


def later(gw: Gateway, seconds: float) -> Outbox:
    """Another replayer of the same outbox whose clock is ``seconds`` ahead."""
    assert gw.outbox is not None
    replayer = Outbox(gw.outbox.backend, gw.outbox.settings, clock=lambda: time.time() + seconds)
    replayer.bind(gw._replay_one, gw._resends_safely)
    return replayer


def stop_inside_claim(gw: Gateway) -> list[Row]:
    """A replayer claims the due rows, then stops without settling them."""
    assert gw.outbox is not None
    return gw.outbox.backend.claim(
        "stopped", time.time(), 60.0, 10, lambda row: pytest.fail(f"{row} stopped")
    )


async def test_without_honoured_keys_an_interrupted_row_is_held_not_resent(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")  # honours no key
    async with gateway(outbox_url, fake) as gw:
        row_id = await defer(gw, fake)
        assert [r.id for r in stop_inside_claim(gw)] == [row_id]
        report = await later(gw, 61).replay()
        assert (report.interrupted, report.claimed, report.held) == (1, 0, 0)
        row = await gw.outbox.get(row_id)  # type: ignore[union-attr]
        assert row is not None and row.state is RowState.HELD and row.attempts == 1
        assert row.last_error == (
            "a replayer stopped while sending it; it may have been sent: check, then "
            f"`aicmo-gateway outbox retry {row_id}`"
        )
        assert (await later(gw, 7200).replay()).claimed == 0  # never blindly
        assert fake.performed == []
        retried = await gw.outbox.retry(row_id)  # type: ignore[union-attr]
        assert retried is not None and retried.state is RowState.DONE
        assert len(fake.performed) == 1


async def test_with_honoured_keys_an_interrupted_row_is_resent_after_a_backoff(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary", honours_idempotency=True)
    async with gateway(outbox_url, fake, outbox_backoff="10m", outbox_backoff_max="1h") as gw:
        row_id = await defer(gw, fake)
        stop_inside_claim(gw)
        report = await later(gw, 61).replay()
        # settled, and not taken again at once: it waits its backoff like any failed attempt
        assert (report.interrupted, report.claimed) == (1, 0)
        row = await gw.outbox.get(row_id)  # type: ignore[union-attr]
        assert row is not None and row.state is RowState.PENDING and row.attempts == 1
        assert row.next_attempt_at >= time.time() + 61 + 300
        assert "a replayer stopped while sending it" in (row.last_error or "")
        assert (await later(gw, 7200).replay()).done == 1
        row = await gw.outbox.get(row_id)  # type: ignore[union-attr]
        assert row is not None and row.state is RowState.DONE and row.attempts == 2
        # the stopped replayer, back, cannot settle a row it no longer holds
        assert not gw.outbox.backend.finish(  # type: ignore[union-attr]
            row_id, "stopped", RowState.PENDING, 0.0, None, None, time.time()
        )
    assert len(fake.performed) == 1


async def test_an_interrupted_row_does_not_take_the_head_of_the_queue(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary", honours_idempotency=True)
    async with gateway(outbox_url, fake, outbox_backoff="10m", outbox_backoff_max="1h") as gw:
        first = await defer(gw, fake)
        fake.profile = fast_failure()
        outcome = await gw.email_sending.send(
            EmailMessage(to=["b@example.com"], subject="Hi", text="Hi"), idempotency_key="k2"
        )
        fake.profile = healthy()
        assert [
            r.id
            for r in gw.outbox.backend.claim(  # type: ignore[union-attr]
                "stopped", time.time(), 60.0, 1, lambda row: pytest.fail(f"{row} stopped")
            )
        ] == [first]
        # the next replayer takes the other row, not the interrupted one again
        report = await later(gw, 61).replay(limit=1)
        assert (report.interrupted, report.done) == (1, 1)
        assert len(fake.performed) == 1
        row = await gw.outbox.get(first)  # type: ignore[union-attr]
        assert row is not None and row.state is RowState.PENDING
        second = await gw.outbox.get(int(outcome.outbox_id or 0))  # type: ignore[union-attr]
        assert second is not None and second.state is RowState.DONE


async def test_a_row_that_crashes_every_replayer_dies_after_max_attempts(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary", honours_idempotency=True)
    async with gateway(outbox_url, fake, outbox_max_attempts=3, outbox_backoff="1s") as gw:
        row_id = await defer(gw, fake)
        sends = 0

        async def crash(*args: Any) -> Any:
            nonlocal sends
            sends += 1
            raise Crash

        for n in range(1, 4):
            if n > 1:  # a replayer finds the row interrupted: pending again, after 1s or less
                report = await later(gw, 1000 * n - 100).replay()
                assert (report.interrupted, report.claimed) == (1, 0)
            crasher = later(gw, 1000 * n)
            crasher.bind(crash, gw._resends_safely)
            with pytest.raises(Crash):
                await crasher.replay()
        report = await later(gw, 4000).replay()
        assert (report.interrupted, report.claimed) == (1, 0)
        row = await gw.outbox.get(row_id)  # type: ignore[union-attr]
        assert row is not None and row.state is RowState.DEAD and row.attempts == 3
        assert row.last_error == "a replayer stopped while sending it; gave up after 3 attempts"
        assert sends == 3 and fake.performed == []


async def test_a_slow_replayer_still_settles_a_row_held_meanwhile(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")
    async with gateway(outbox_url, fake) as gw:
        row_id = await defer(gw, fake)
        stop_inside_claim(gw)
        assert (await later(gw, 61).replay()).interrupted == 1
        # its replayer was only slow: it knows the row was performed, and says so
        assert gw.outbox.backend.finish(  # type: ignore[union-attr]
            row_id, "stopped", RowState.DONE, 0.0, None, None, time.time()
        )
        row = await gw.outbox.get(row_id)  # type: ignore[union-attr]
        assert row is not None and row.state is RowState.DONE and row.last_error is None
        assert not gw.outbox.backend.finish(  # type: ignore[union-attr]
            row_id, "stopped", RowState.PENDING, 0.0, None, None, time.time()
        )


def test_concurrent_claimers_settle_each_interrupted_row_once(outbox_url):
    setup = open_backend(outbox_url)
    setup.migrate()
    for n in range(100):
        setup.enqueue("email_sending", "send", f"k{n}", "{}", RowState.PENDING, None, None, 0.0)
    assert (
        len(setup.claim("stopped", 1.0, 1.0, 100, lambda row: pytest.fail(f"{row} stopped"))) == 100
    )
    setup.close()
    settled: list[int] = []
    lock = threading.Lock()

    def hold(row: Row) -> Settlement:
        with lock:
            settled.append(row.id)
        return Settlement(RowState.HELD, row.next_attempt_at, "stopped")

    def claimer(name: str) -> None:
        backend = open_backend(outbox_url)
        for _ in range(5):
            backend.claim(name, 10.0, 60.0, 10, hold)
        backend.close()

    threads = [threading.Thread(target=claimer, args=(f"c{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(settled) == sorted(set(settled)) and len(settled) == 100
    check = open_backend(outbox_url)
    assert check.counts()["held"] == 100
    check.close()
