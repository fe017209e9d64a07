"""Deferring writes: ``when_all_down = "defer"``, and a row due when its chain recovers.

On the virtual clock: breakers open for a minute, a quota spent for an hour, each passes in
microseconds. The outbox runs on the same time line (``wall_time``), so a row's next attempt
is compared with the breaker's own deadline.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aicmo_gateway import Gateway, Status
from aicmo_gateway.cli import cli
from aicmo_gateway.engine.clock import wall_time
from aicmo_gateway.errors import ConfigError
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.outbox import Outbox, RowState
from aicmo_gateway.testing import run_virtual
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.profiles import fast_failure, healthy, quota

OPEN = 60.0  # seconds a tripped breaker stays open


def message(n: int = 1) -> EmailMessage:
    return EmailMessage(
        to=[f"lead{n}@example.com"], subject="Hi", text="x", sender="me@example.com"
    )


def gateway(url: str, *fakes: FakeProvider, **capability: Any) -> Gateway:
    names = [fake.name for fake in fakes]
    config = fake_config("email_sending", *names, **capability)
    config["gateway"] = {"outbox": url}
    for name in names:
        config["providers"][name]["health"] = {
            "consecutive_failures": 1,
            "open_seconds": OPEN,
            "open_max_seconds": OPEN,
        }
    registry = fake_registry(**{fake.name: fake for fake in fakes})
    return Gateway.from_config(config, registry=registry, env={})


def open_until_wall(gw: Gateway, name: str) -> float:
    """The provider's breaker deadline, as wall-clock seconds on the loop's time line."""
    slot = next(s for s in gw.chains["email_sending"].slots if s.name == name)
    snap = slot.health.snapshot()
    assert snap.open_until is not None
    return wall_time() - asyncio.get_running_loop().time() + snap.open_until


def test_every_breaker_open_defers_at_once_due_when_the_first_recovers(outbox_url):
    primary = FakeProvider(fast_failure("primary down"), name="primary")
    backup = FakeProvider(fast_failure("backup down"), name="backup")

    async def scenario() -> None:
        async with gateway(outbox_url, primary, backup, when_all_down="defer") as gw:
            assert gw.outbox is not None
            # both fail once: both breakers open (this write is stored too)
            tripped = await gw.email_sending.send(message(0), idempotency_key="trip")
            assert tripped.status is Status.DEFERRED
            calls = primary.total_calls + backup.total_calls
            recovers = min(open_until_wall(gw, "primary"), open_until_wall(gw, "backup"))

            outcome = await gw.email_sending.send(message(1), idempotency_key="k-1")
            assert outcome.status is Status.DEFERRED and outcome.outbox_id is not None
            assert primary.total_calls + backup.total_calls == calls  # nobody was tried
            assert "every provider was unavailable" in (outcome.reason or "")
            row = await gw.outbox.get(int(outcome.outbox_id))
            assert row is not None and row.state is RowState.PENDING
            assert row.attempts == 0
            assert row.next_attempt_at == pytest.approx(recovers, abs=0.05)
            assert "primary may serve again" in (row.last_error or "")

            # not due before the breakers half-open: nothing is claimed, nothing sent
            primary.profile = backup.profile = healthy()
            assert (await gw.outbox.replay()).claimed == 0
            await asyncio.sleep(OPEN + 1)
            report = await gw.outbox.replay()
            assert (report.claimed, report.done) == (2, 2)
            assert (await gw.outbox.replay()).claimed == 0
        sent = [key for _, key in primary.performed + backup.performed]
        assert len(sent) == len(set(sent)) == 2  # each exactly once (keys are Message-IDs)

    run_virtual(scenario())


def test_a_replay_that_finds_every_provider_still_down_counts_no_attempt(outbox_url):
    fake = FakeProvider(fast_failure(), name="primary")

    async def scenario() -> None:
        async with gateway(outbox_url, fake, when_all_down="defer") as gw:
            assert gw.outbox is not None
            await gw.email_sending.send(message(0), idempotency_key="trip")
            outcome = await gw.email_sending.send(message(1), idempotency_key="k")
            row_id = int(outcome.outbox_id or 0)
            # a replayer whose clock is past the due time, while this process's breaker is
            # still open: the chain skips every provider, so the claim is given back
            ahead = Outbox(gw.outbox.backend, gw.outbox.settings, clock=lambda: wall_time() + OPEN)
            ahead.bind(gw._replay_one, recovery=gw._recovery)
            report = await ahead.replay()
            assert report.claimed == 2 and report.pending == 2
            row = await gw.outbox.get(row_id)
            assert row is not None and row.state is RowState.PENDING and row.attempts == 0
            assert row.next_attempt_at > wall_time() + OPEN  # due when it recovers, again
            assert "every provider was unavailable" in (row.last_error or "")
        assert fake.performed == []

    run_virtual(scenario())


def test_a_quota_exhausted_until_its_reset_defers_to_the_reset(outbox_url):
    fake = FakeProvider(quota(0, 3600.0), name="primary")  # spent until the hour ends

    async def scenario() -> None:
        async with gateway(outbox_url, fake) as gw:
            assert gw.outbox is not None
            outcome = await gw.email_sending.send(message(), idempotency_key="q")
            assert outcome.status is Status.DEFERRED
            row = await gw.outbox.get(int(outcome.outbox_id or 0))
            assert row is not None and row.attempts == 0
            left = row.next_attempt_at - wall_time()
            assert 3500 < left <= 3601, left  # the quota's reset, not a 30-second backoff
            assert (await gw.outbox.replay()).claimed == 0
            fake.profile = healthy()
            await asyncio.sleep(left + 1)
            assert (await gw.outbox.replay()).done == 1
        assert len(fake.performed) == 1

    run_virtual(scenario())


def test_defer_without_an_outbox_is_a_config_error_naming_the_fix():
    config = fake_config("email_sending", "primary", when_all_down="defer")
    with pytest.raises(ConfigError) as caught:
        Gateway.from_config(config, registry=fake_registry(primary=FakeProvider()), env={})
    problem = caught.value.problems[0]
    assert problem.key == "capabilities.email_sending.when_all_down"
    assert "outbox" in problem.message and 'outbox = "sqlite:///outbox.db"' in problem.fix


def test_reads_are_never_deferred(tmp_path: Path):
    config = fake_config("lead_enrichment", "primary", when_all_down="defer")
    config["gateway"] = {"outbox": f"sqlite:///{tmp_path / 'outbox.db'}"}
    with pytest.raises(ConfigError) as caught:
        Gateway.from_config(config, registry=fake_registry(primary=FakeProvider()), env={})
    problem = caught.value.problems[0]
    assert problem.key == "capabilities.lead_enrichment.when_all_down"
    assert "only reads" in problem.message


CONFIG = """
[gateway]
outbox = "sqlite:///outbox.db"

[capabilities.email_sending]
providers = ["mail"]
when_all_down = "defer"

[providers.mail]
type = "maildir"
path = "maildir"
create = false
health = { consecutive_failures = 1, open_seconds = 600, open_max_seconds = 600 }
"""


def test_outbox_list_shows_why_a_row_was_deferred(tmp_path: Path):
    config = tmp_path / "aicmo-gateway.toml"
    config.write_text(CONFIG, encoding="utf-8")

    async def send() -> None:
        async with Gateway.from_config(config) as gw:
            for n in (1, 2):  # the first fails (no folder) and opens the breaker
                outcome = await gw.email_sending.send(message(n), idempotency_key=f"k{n}")
                assert outcome.status is Status.DEFERRED

    asyncio.run(send())
    result = CliRunner().invoke(cli, ["outbox", "list", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "every provider was unavailable" in result.output
    result = CliRunner().invoke(cli, ["outbox", "list", "--config", str(config), "--json"])
    rows = json.loads(result.stdout)["rows"]
    assert [r["attempts"] for r in rows] == [0, 0]
    assert "when mail may serve again" in rows[1]["last_error"]


async def test_a_quota_the_fleet_spent_defers_to_the_fleets_reset(tmp_path: Path):
    """The fleet refuses the provider (its daily quota, spent by another worker) while this
    process's own count is zero: the row is due at the quota's reset, midnight UTC."""
    fake = FakeProvider(name="primary")
    config = fake_config("email_sending", "primary", when_all_down="defer")
    config["gateway"] = {
        "outbox": f"sqlite:///{tmp_path / 'outbox.db'}",
        "store": f"sqlite:///{tmp_path / 'fleet.db'}",
        "name": "defer-app",
    }
    config["providers"]["primary"]["daily_quota"] = 1
    one, other = (
        Gateway.from_config(config, registry=fake_registry(primary=fake), env={}) for _ in (1, 2)
    )
    try:
        assert (await one.email_sending.send(message(1), idempotency_key="a")).ok
        outcome = await other.email_sending.send(message(2), idempotency_key="b")
        assert outcome.status is Status.DEFERRED, outcome.reason
        assert other.outbox is not None
        row = await other.outbox.get(int(outcome.outbox_id or 0))
        assert row is not None and row.attempts == 0
        midnight = (time.time() // 86400 + 1) * 86400
        assert row.next_attempt_at == pytest.approx(midnight, abs=2)
        assert "quota of 1 per day used up" in (row.last_error or "")
    finally:
        await one.aclose()
        await other.aclose()
    assert len(fake.performed) == 1
