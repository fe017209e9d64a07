"""The outbox's contract, run against SQLite and the real PostgreSQL (see conftest.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from aicmo_gateway import Gateway, Status
from aicmo_gateway.ports import Attachment, EmailMessage
from aicmo_gateway.state.outbox import Outbox, RowState, open_backend
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.profiles import accept_then_timeout, fast_failure, healthy


def message(n: int = 1) -> EmailMessage:
    return EmailMessage(
        to=[f"lead{n}@example.com"],
        subject=f"Hello {n}",
        text="Hi",
        sender="me@example.com",
        attachments=[Attachment("a.bin", b"\x00\xffdata", "application/octet-stream")],
    )


def gateway(url: str, fake: FakeProvider, **gateway_keys: Any) -> Gateway:
    config = fake_config("email_sending", "primary")
    config["gateway"] = {"outbox": url, **gateway_keys}
    return Gateway.from_config(config, registry=fake_registry(primary=fake), env={})


async def test_a_write_no_provider_performed_is_deferred_and_stored(outbox_url):
    fake = FakeProvider(fast_failure("mail server down"), name="primary")
    async with gateway(outbox_url, fake) as gw:
        outcome = await gw.email_sending.send(message(), idempotency_key="k-1")
        assert outcome.status is Status.DEFERRED
        assert outcome.outbox_id is not None
        assert "mail server down" in (outcome.reason or "")
        assert gw.outbox is not None
        row = await gw.outbox.get(int(outcome.outbox_id))
        assert row is not None
        assert (row.capability, row.operation, row.idempotency_key) == (
            "email_sending",
            "send",
            "k-1",
        )
        assert row.state is RowState.PENDING and row.attempts == 0
        assert "mail server down" in (row.last_error or "")
    assert fake.performed == []


async def test_the_same_key_deferred_twice_is_one_row(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")
    async with gateway(outbox_url, fake) as gw:
        first = await gw.email_sending.send(message(), idempotency_key="same")
        second = await gw.email_sending.send(message(), idempotency_key="same")
        assert first.outbox_id == second.outbox_id
        assert gw.outbox is not None
        assert (await gw.outbox.counts())["pending"] == 1


async def test_replay_performs_a_row_once_with_its_key_and_payload(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")
    async with gateway(outbox_url, fake) as gw:
        sent = message(7)
        outcome = await gw.email_sending.send(sent, idempotency_key="k-7")
        fake.profile = healthy()
        assert gw.outbox is not None
        report = await gw.outbox.replay()
        assert (report.claimed, report.done) == (1, 1)
        again = await gw.outbox.replay()
        assert again.claimed == 0
        assert fake.performed == [("send", fake.performed[0][1])]
        replayed = [p for op, p in fake.received if op == "send"][-1]
        assert replayed.to == sent.to and replayed.attachments == sent.attachments
        row = await gw.outbox.get(int(outcome.outbox_id or 0))
        assert row is not None and row.state is RowState.DONE and row.attempts == 1
        # the ledger now knows the key: a new call with it performs nothing
        repeat = await gw.email_sending.send(sent, idempotency_key="k-7")
        assert repeat.ok and repeat.replayed_from is not None
        assert len(fake.performed) == 1


async def test_a_deferred_send_to_an_address_suppressed_meanwhile_is_not_replayed(
    outbox_url, tmp_path
):
    fake = FakeProvider(fast_failure(), name="primary")
    config = fake_config("email_sending", "primary")
    config["gateway"] = {"outbox": outbox_url}
    config["email"] = {"suppression": f"sqlite:///{tmp_path}/suppression.db"}
    registry = fake_registry(primary=fake)
    async with Gateway.from_config(config, registry=registry, env={}) as gw:
        outcome = await gw.email_sending.send(message(3), idempotency_key="k-3")
        assert outcome.status is Status.DEFERRED
        await gw.suppression.add(message(3).to[0], "unsubscribed", "one-click")
        fake.profile = healthy()
        assert gw.outbox is not None
        report = await gw.outbox.replay()
        assert (report.claimed, report.dead) == (1, 1)
        row = await gw.outbox.get(int(outcome.outbox_id or 0))
        assert row is not None and row.state is RowState.DEAD
        assert "unsubscribed" in (row.last_error or "")
    assert fake.performed == []


async def test_a_failed_replay_backs_off_then_the_row_dies(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")
    async with gateway(
        outbox_url, fake, outbox_max_attempts=2, outbox_backoff="1h", outbox_backoff_max="2h"
    ) as gw:
        outcome = await gw.email_sending.send(message(), idempotency_key="k")
        assert gw.outbox is not None
        row_id = int(outcome.outbox_id or 0)
        before = time.time()
        assert (await gw.outbox.replay()).pending == 1
        row = await gw.outbox.get(row_id)
        assert row is not None and row.state is RowState.PENDING and row.attempts == 1
        # exponential with jitter over the upper half: the first retry is 30 to 60 minutes away
        assert before + 1800 <= row.next_attempt_at <= time.time() + 3600
        assert (await gw.outbox.replay()).claimed == 0  # not due yet
        later = Outbox(gw.outbox.backend, gw.outbox.settings, clock=lambda: time.time() + 7200)
        later.bind(gw._replay_one)
        assert (await later.replay()).dead == 1
        row = await gw.outbox.get(row_id)
        assert row is not None and row.state is RowState.DEAD and row.attempts == 2
        assert "gave up after 2 attempts" in (row.last_error or "")
        # retry brings a dead row back on request
        fake.profile = healthy()
        retried = await gw.outbox.retry(row_id)
        assert retried is not None and retried.state is RowState.DONE
    assert len(fake.performed) == 1


async def test_an_uncertain_write_is_held_and_replayed_only_on_request(outbox_url):
    fake = FakeProvider(accept_then_timeout(), name="primary")
    async with gateway(outbox_url, fake) as gw:
        outcome = await gw.email_sending.send(message(), idempotency_key="maybe")
        assert outcome.status is Status.UNCERTAIN
        assert outcome.outbox_id is not None
        assert gw.outbox is not None
        row = await gw.outbox.get(int(outcome.outbox_id))
        assert row is not None and row.state is RowState.HELD
        assert (await gw.outbox.replay()).claimed == 0  # never blindly
        assert len(fake.performed) == 1
        fake.profile = healthy()
        retried = await gw.outbox.retry(int(outcome.outbox_id))
        assert retried is not None and retried.state is RowState.DONE
    assert len(fake.performed) == 2  # the fake does not honour keys: asked for, so done


def test_concurrent_claimers_never_take_the_same_row(outbox_url):
    setup = open_backend(outbox_url)
    setup.migrate()
    for n in range(200):
        setup.enqueue("email_sending", "send", f"k{n}", "{}", RowState.PENDING, None, None, 0.0)
    setup.close()
    taken: list[list[int]] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        backend = open_backend(outbox_url)
        mine: list[int] = []
        while rows := backend.claim(
            name, time.time(), 300.0, 7, lambda row: pytest.fail(f"{row} stopped")
        ):
            mine += [r.id for r in rows]
        backend.close()
        with lock:
            taken.append(mine)

    threads = [threading.Thread(target=claimer, args=(f"c{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for mine in taken for i in mine]
    assert len(every) == 200 and len(set(every)) == 200


async def test_list_counts_and_purge(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")
    async with gateway(outbox_url, fake) as gw:
        for n in range(3):
            await gw.email_sending.send(message(n), idempotency_key=f"k{n}")
        assert gw.outbox is not None
        fake.profile = healthy()
        await gw.outbox.replay(limit=2)
        counts = await gw.outbox.counts()
        assert (counts["done"], counts["pending"]) == (2, 1)
        assert [r.idempotency_key for r in await gw.outbox.rows(RowState.PENDING)] == ["k2"]
        assert await gw.outbox.purge(older_than=3600) == 0  # too recent
        assert await gw.outbox.purge() == 2
        assert len(await gw.outbox.rows()) == 1
        with pytest.raises(ValueError, match="done and dead rows only"):
            await gw.outbox.purge((RowState.PENDING,))


async def test_a_dead_row_comes_back_when_its_key_fails_again(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")
    async with gateway(outbox_url, fake, outbox_max_attempts=1) as gw:
        first = await gw.email_sending.send(message(), idempotency_key="k")
        assert gw.outbox is not None
        assert (await gw.outbox.replay()).dead == 1
        again = await gw.email_sending.send(message(), idempotency_key="k")
        assert again.status is Status.DEFERRED and again.outbox_id == first.outbox_id
        row = await gw.outbox.get(int(again.outbox_id or 0))
        assert row is not None and row.state is RowState.PENDING and row.attempts == 0


async def test_a_fanout_some_providers_performed_is_not_deferred(outbox_url):
    good = FakeProvider(healthy(), name="good")
    bad = FakeProvider(fast_failure(), name="bad")
    config = fake_config("email_sending", "good", "bad", strategy="fanout")
    config["gateway"] = {"outbox": outbox_url}
    registry = fake_registry(good=good, bad=bad)
    async with Gateway.from_config(config, registry=registry, env={}) as gw:
        outcome = await gw.email_sending.send(message(), idempotency_key="k")
        assert outcome.status is Status.FAILED and outcome.outbox_id is None
        assert gw.outbox is not None
        assert await gw.outbox.rows() == []


async def test_explain_names_the_outbox_row(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")
    async with gateway(outbox_url, fake) as gw:
        outcome = await gw.email_sending.send(message(), idempotency_key="k")
        text = gw.explain(outcome.call_id)
        assert f"stored in the outbox as row {outcome.outbox_id}" in text
        assert "-> deferred" in text
