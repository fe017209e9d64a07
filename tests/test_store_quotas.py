"""``Gateway.quotas()`` with a shared store: the fleet's spending, not one process's.

Two gateways on one store stand for two worker processes (the SQLite file both open, as two
processes would; the real Redis at 127.0.0.1:6379, skipped locally with a message when it is
absent, never when ``CI`` is set).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aicmo_gateway import Gateway
from aicmo_gateway.cli import cli
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing import FakeProvider
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from tests.store_backends import REDIS_URL, delete_namespace, need_redis

MESSAGE = EmailMessage(to="lead@example.com", sender="s@example.com", subject="Hi", text="Hi")


def build(store: str, name: str, fake: FakeProvider) -> Gateway:
    config = fake_config("email_sending", "capped")
    config["gateway"] = {"store": store, "name": name}
    config["providers"]["capped"]["quotas"] = {"day": 10, "hour": 8}
    return Gateway.from_config(config, registry=fake_registry(capped=fake), env={})


@pytest.fixture(params=["sqlite", "redis"])
async def shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A store URL and an application name no other test uses."""
    name = f"quotas-{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fleet.db'}", name
        return
    need_redis()
    try:
        yield REDIS_URL, name
    finally:
        await delete_namespace(name)


async def test_two_gateways_on_one_store_report_what_the_fleet_spent(shared):
    url, name = shared
    fake = FakeProvider(name="capped")
    one, other = build(url, name, fake), build(url, name, fake)
    try:
        for n in range(2):
            assert (await one.email_sending.send(MESSAGE, idempotency_key=f"one-{n}")).ok
        for n in range(3):
            assert (await other.email_sending.send(MESSAGE, idempotency_key=f"other-{n}")).ok
        await one.store.flush()  # type: ignore[union-attr]
        await other.store.flush()  # type: ignore[union-attr]
        for gateway in (one, other):
            rows = {row["period"]: row for row in gateway.quotas()}
            assert {p: (r["used"], r["remaining"], r["scope"]) for p, r in rows.items()} == {
                "day": (5, 5, "fleet"),
                "hour": (5, 3, "fleet"),
            }
            assert rows["day"]["limit"] == 10 and rows["hour"]["limit"] == 8
    finally:
        await one.aclose()
        await other.aclose()
    assert len(fake.performed) == 5


async def test_the_memory_store_reports_this_process_alone():
    fake = FakeProvider(name="capped")
    one, other = build("memory", "a", fake), build("memory", "a", fake)
    try:
        await one.email_sending.send(MESSAGE, idempotency_key="k1")
        await other.email_sending.send(MESSAGE, idempotency_key="k2")
        rows = {(r["period"], r["used"], r["scope"]) for r in one.quotas()}
        assert rows == {("day", 1, "process"), ("hour", 1, "process")}
    finally:
        await one.aclose()
        await other.aclose()


async def test_an_unreachable_redis_leaves_this_process_counts_at_once():
    fake = FakeProvider(name="capped")
    gateway = build("redis://127.0.0.1:1/0", "down", fake)
    try:
        await gateway.email_sending.send(MESSAGE, idempotency_key="k1")  # finds Redis down
        started = time.monotonic()
        rows = gateway.quotas()
        assert time.monotonic() - started < 0.5  # known down: not asked again
        assert {(r["period"], r["used"], r["scope"]) for r in rows} == {
            ("day", 1, "process"),
            ("hour", 1, "process"),
        }
    finally:
        await gateway.aclose()


def test_the_status_command_shows_the_fleets_quota_against_its_limit(tmp_path: Path):
    db = tmp_path / "fleet.db"
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(
        f'[gateway]\nstore = "sqlite:///{db}"\nname = "crm-app"\n'
        '[capabilities.email_sending]\nproviders = ["box"]\n'
        f'[providers.box]\ntype = "maildir"\npath = "{tmp_path / "mail"}"\n'
        "daily_quota = 500\n",
        encoding="utf-8",
    )
    import asyncio

    async def send_three() -> None:
        async with Gateway.from_config(path) as gateway:
            for n in range(3):
                outcome = await gateway.email_sending.send(MESSAGE, idempotency_key=f"k{n}")
                assert outcome.ok, outcome.reason
            assert gateway.quotas()[0]["used"] == 3

    asyncio.run(send_three())
    env = {"AICMO_GATEWAY_LOAD_PLUGINS": ""}
    shown = CliRunner().invoke(cli, ["status", "--config", str(path)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "3 of 500 this day" in shown.output
    as_json = CliRunner().invoke(cli, ["status", "--json", "--config", str(path)], env=env)
    [row] = json.loads(as_json.output)["providers"]
    assert row["quota_used"] == {"day": 3} and row["quota_limits"] == {"day": 500}
