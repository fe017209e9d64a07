"""``[gateway] store`` through the public API: two gateways on one store act as one fleet.

Two gateways built from one config stand for two worker processes (the SQLite store is a
file both open, as two processes would; the fleet test runs real processes on Redis).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner

from aicmo_gateway import ConfigError, Gateway
from aicmo_gateway.cli import cli
from aicmo_gateway.outcome import Status
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing import FakeProvider
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.profiles import fast_failure, healthy, rate_limited
from tests.store_backends import REDIS_URL, delete_namespace, need_redis

MESSAGE = EmailMessage(to="lead@example.com", sender="s@example.com", subject="Hi", text="Hi")


def build(store: str, fakes: dict[str, FakeProvider], *, idempotency=None, **provider_keys):
    config = fake_config("email_sending", *fakes)
    config["gateway"] = {"store": store, "name": "crm-app"}
    for name, keys in provider_keys.items():
        config["providers"][name].update(keys)
    registry = fake_registry(fakes, idempotency=idempotency)
    return Gateway.from_config(config, registry=registry, env={})


@pytest.fixture
def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'fleet.db'}"


# -- configuration -------------------------------------------------------------------------


def test_the_memory_store_leaves_the_engine_without_a_store():
    gateway = build("memory", {"p": FakeProvider(name="p")})
    chain = gateway.chains["email_sending"]
    assert gateway.store is None and chain.shared is None
    assert all(slot.shared is None for slot in chain.slots)
    assert gateway.store_state() is None


def test_a_relative_sqlite_store_lives_next_to_the_config_file(tmp_path):
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(
        '[gateway]\nstore = "sqlite:///state.db"\n'
        '[capabilities.email_sending]\nproviders = ["box"]\n'
        f'[providers.box]\ntype = "maildir"\npath = "{tmp_path / "mail"}"\n',
        encoding="utf-8",
    )
    gateway = Gateway.from_config(path, env={})
    try:
        assert (tmp_path / "state.db").exists()
        assert gateway.store_state()["kind"] == "sqlite"
    finally:
        asyncio.run(gateway.aclose())


def test_a_bad_name_is_a_config_error():
    config = fake_config("email_sending", "p")
    config["gateway"] = {"name": "no spaces please"}
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(config, registry=fake_registry(p=FakeProvider()), env={})
    assert info.value.problems[0].key == "gateway.name"


def test_a_missing_redis_client_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigError) as info:
        build("redis://127.0.0.1:6379/0", {"p": FakeProvider(name="p")})
    assert "redis extra" in str(info.value) and "pip install '.[redis]'" in str(info.value)
    assert info.value.problems[0].key == "gateway.store"


def test_importing_the_gateway_does_not_import_redis():
    code = "import sys, aicmo_gateway; aicmo_gateway.Gateway; print('redis' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "False"


# -- the fleet on SQLite ---------------------------------------------------------------------


async def test_a_key_performed_by_one_gateway_is_returned_by_the_other(store_url):
    box = FakeProvider(name="box")
    one, other = build(store_url, {"box": box}), build(store_url, {"box": box})
    try:
        first = await one.email_sending.send(MESSAGE, idempotency_key="lead-1")
        second = await other.email_sending.send(MESSAGE, idempotency_key="lead-1")
        assert first.ok and second.ok and len(box.performed) == 1
        assert second.replayed_from == first.call_id and second.attempts == ()
        assert second.value == first.value
    finally:
        await one.aclose()
        await other.aclose()


async def test_two_gateways_racing_on_one_key_perform_it_once(store_url):
    box = FakeProvider(healthy(latency=0.05), name="box")
    one, other = build(store_url, {"box": box}), build(store_url, {"box": box})
    try:
        outcomes = await asyncio.gather(
            *(
                g.email_sending.send(MESSAGE, idempotency_key=f"k{i}")
                for i in range(20)
                for g in (one, other)
            )
        )
        assert all(o.ok for o in outcomes) and len(box.performed) == 20
        assert sum(o.replayed_from is not None for o in outcomes) == 20
    finally:
        await one.aclose()
        await other.aclose()


async def _stale_claim(store_url: str, key: str) -> None:
    """A process claimed ``key`` and died: its lease has ended, no outcome recorded."""
    from aicmo_gateway.state.store.sqlite import SqliteStore

    dead = SqliteStore(store_url.removeprefix("sqlite:///"), "crm-app")
    try:
        await dead.claim(f"email_sending:send:{key}", "dead-call", 0.0, 3600.0)
    finally:
        await dead.aclose()


async def test_a_dead_workers_claim_is_not_sent_again_blindly(store_url):
    box = FakeProvider(name="box")
    await _stale_claim(store_url, "lead-7")
    gateway = build(store_url, {"box": box})
    try:
        outcome = await gateway.email_sending.send(MESSAGE, idempotency_key="lead-7")
        assert outcome.status is Status.UNCERTAIN and box.performed == []
        assert "may have been performed" in outcome.reason
    finally:
        await gateway.aclose()


async def test_a_dead_workers_claim_is_sent_again_where_providers_honour_keys(store_url):
    box = FakeProvider(name="box", honours_idempotency=True)
    await _stale_claim(store_url, "lead-7")
    gateway = build(store_url, {"box": box})
    try:
        outcome = await gateway.email_sending.send(MESSAGE, idempotency_key="lead-7")
        assert outcome.ok and len(box.performed) == 1
    finally:
        await gateway.aclose()


async def test_a_cooldown_seen_by_one_gateway_is_obeyed_by_the_other(store_url):
    limited, backup = FakeProvider(rate_limited(60.0), name="limited"), FakeProvider(name="backup")
    one = build(store_url, {"limited": limited, "backup": backup})
    other = build(store_url, {"limited": limited, "backup": backup})
    try:
        assert (await one.email_sending.send(MESSAGE, idempotency_key="a")).provider == "backup"
        outcome = await other.email_sending.send(MESSAGE, idempotency_key="b")
        assert outcome.provider == "backup" and limited.total_calls == 1
        assert "the fleet" in outcome.attempts[0].detail
        # and the other gateway's own view learnt it: its next call does not ask again
        assert other.status()[0]["health"] == "unhealthy"
    finally:
        await one.aclose()
        await other.aclose()


async def test_a_daily_quota_is_spent_once_by_both_gateways(store_url):
    quota, backup = FakeProvider(name="quota"), FakeProvider(name="backup")
    fakes = {"quota": quota, "backup": backup}
    one = build(store_url, fakes, quota={"daily_quota": 3})
    other = build(store_url, fakes, quota={"daily_quota": 3})
    try:
        for i in range(3):
            for gateway in (one, other):
                await gateway.email_sending.send(MESSAGE, idempotency_key=f"{id(gateway)}-{i}")
        assert len(quota.performed) == 3 and len(backup.performed) == 3
    finally:
        await one.aclose()
        await other.aclose()


async def test_the_fleet_status_shows_a_breaker_another_gateway_opened(store_url, tmp_path):
    down, backup = FakeProvider(fast_failure(), name="down"), FakeProvider(name="backup")
    fakes = {"down": down, "backup": backup}
    health = {"consecutive_failures": 2, "open_seconds": 600}
    one = build(store_url, fakes, down={"health": health})
    other = build(store_url, fakes, down={"health": health})
    try:
        for i in range(2):
            await one.email_sending.send(MESSAGE, idempotency_key=f"k{i}")
        rows = {row["provider"]: row for row in await other.fleet_status()}
        assert rows["down"]["state"] == "open" and rows["down"]["trips"] == 1
        assert "2 failures in a row across the fleet" in rows["down"]["reason"]
        assert rows["backup"]["state"] == "closed"
    finally:
        await one.aclose()
        await other.aclose()


def test_the_status_command_shows_the_fleet_without_a_state_dir(tmp_path):
    db = tmp_path / "fleet.db"
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(
        f'[gateway]\nstore = "sqlite:///{db}"\nname = "crm-app"\n'
        '[capabilities.email_sending]\nproviders = ["box"]\n'
        f'[providers.box]\ntype = "maildir"\npath = "{tmp_path / "mail"}"\n',
        encoding="utf-8",
    )

    async def cool_down() -> None:
        from aicmo_gateway.state.store import ProviderSpec
        from aicmo_gateway.state.store.sqlite import SqliteStore

        store = SqliteStore(db, "crm-app")
        store.provider("box", ProviderSpec()).failed(
            counted=False, cooldown=120.0, reason="RateLimited: 429 slow down"
        )
        await store.aclose()

    asyncio.run(cool_down())
    env = {"AICMO_GATEWAY_LOAD_PLUGINS": ""}
    shown = CliRunner().invoke(cli, ["status", "--config", str(path)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "cooling" in shown.output and "429 slow down" in shown.output
    assert "crm-app" in shown.output
    as_json = CliRunner().invoke(cli, ["status", "--json", "--config", str(path)], env=env)
    [row] = json.loads(as_json.output)["providers"]
    assert row["provider"] == "box" and row["state"] == "cooling"


def test_the_status_command_says_when_redis_is_unreachable(tmp_path):
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(
        '[gateway]\nstore = "redis://127.0.0.1:1/0"\n'
        '[capabilities.email_sending]\nproviders = ["box"]\n'
        f'[providers.box]\ntype = "maildir"\npath = "{tmp_path / "mail"}"\n',
        encoding="utf-8",
    )
    shown = CliRunner().invoke(
        cli, ["status", "--config", str(path)], env={"AICMO_GATEWAY_LOAD_PLUGINS": ""}
    )
    assert shown.exit_code == 1 and "unreachable" in shown.output


async def test_the_fleet_status_reads_redis(tmp_path):
    need_redis()
    name = f"status-{uuid.uuid4().hex[:12]}"
    down, backup = FakeProvider(fast_failure(), name="down"), FakeProvider(name="backup")
    config = fake_config("email_sending", "down", "backup")
    config["gateway"] = {"store": REDIS_URL, "name": name}
    config["providers"]["down"]["health"] = {"consecutive_failures": 1, "open_seconds": 600}
    gateway = Gateway.from_config(config, registry=fake_registry(down=down, backup=backup), env={})
    try:
        await gateway.email_sending.send(MESSAGE, idempotency_key="k")
        await gateway.store.flush()
        rows = {row["provider"]: row for row in await gateway.fleet_status()}
        assert rows["down"]["state"] == "open"
    finally:
        await gateway.aclose()
        await delete_namespace(name)


async def test_the_state_file_says_whether_the_store_is_reachable(tmp_path):
    config = fake_config("email_sending", "p")
    config["gateway"] = {"store": "redis://127.0.0.1:1/0", "state_dir": str(tmp_path / "st")}
    gateway = Gateway.from_config(config, registry=fake_registry(p=FakeProvider(name="p")), env={})
    try:
        await gateway.email_sending.send(MESSAGE, idempotency_key="k")
    finally:
        await gateway.aclose()
    data = json.loads((tmp_path / "st" / "health.json").read_text(encoding="utf-8"))
    assert data["store"]["reachable"] is False and data["store"]["kind"] == "redis"


def test_status_falls_back_to_the_state_dir_and_shows_the_outage(tmp_path):
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(
        '[gateway]\nstore = "redis://127.0.0.1:1/0"\nstate_dir = "state"\n'
        '[capabilities.email_sending]\nproviders = ["box"]\n'
        f'[providers.box]\ntype = "maildir"\npath = "{tmp_path / "mail"}"\ncreate = true\n',
        encoding="utf-8",
    )
    env = {"AICMO_GATEWAY_LOAD_PLUGINS": ""}

    async def send_one() -> None:
        async with Gateway.from_config(path, env=env) as gateway:
            assert (await gateway.email_sending.send(MESSAGE, idempotency_key="k")).ok

    asyncio.run(send_one())
    shown = CliRunner().invoke(cli, ["status", "--config", str(path)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "is unreachable" in shown.output and "box" in shown.output
    assert "shared store redis://127.0.0.1:1/0 unreachable since" in shown.output


def test_the_synchronous_facade_shares_through_redis(tmp_path):
    need_redis()
    name = f"sync-{uuid.uuid4().hex[:12]}"
    box = FakeProvider(name="box")
    config = fake_config("email_sending", "box")
    config["gateway"] = {"store": REDIS_URL, "name": name}
    try:
        with Gateway.from_config(config, registry=fake_registry(box=box), env={}).sync() as gw:
            first = gw.email_sending.send(MESSAGE, idempotency_key="k1")
            again = gw.email_sending.send(MESSAGE, idempotency_key="k1")
        assert first.ok and again.replayed_from == first.call_id and len(box.performed) == 1
        # a second gateway (another process) gets the recorded outcome from Redis
        other_box = FakeProvider(name="box")
        with Gateway.from_config(
            config, registry=fake_registry(box=other_box), env={}
        ).sync() as gw:
            third = gw.email_sending.send(MESSAGE, idempotency_key="k1")
        assert third.ok and third.replayed_from == first.call_id and other_box.performed == []
    finally:
        asyncio.run(delete_namespace(name))
