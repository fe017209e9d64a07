"""Slowness demotes a provider; it never turns successful calls into failures.

A breaker opened by slow calls alone (every call in its window succeeded) is a soft open:
the provider is skipped while another can serve, and still tried, last, when none can. A
real failure makes the open hard again. Everything runs on the virtual clock.
"""

from __future__ import annotations

import asyncio

import pytest

from aicmo_gateway import Action, Gateway, Status
from aicmo_gateway.engine.health import HealthPolicy, ProviderHealth
from aicmo_gateway.testing import FakeProvider, fake_config, fake_registry, profiles, run_virtual

#: (profile, provider settings): three ways successes get slow
SLOWNESS = {
    # the relative rule: from 10 s on, 10x the usual latency (a brownout)
    "brownout": (
        lambda: profiles.phases(
            [(10.0, profiles.healthy(latency=0.05))], then=profiles.healthy(latency=0.5)
        ),
        {},
    ),
    # lock contention: mostly fast, a long tail (p99 20x the median)
    "contention": (lambda: profiles.slow(median=0.05, p99=1.0, seed=7), {}),
    # the absolute rule: every call over slow_call_seconds
    "always-over-the-limit": (
        lambda: profiles.slow(median=2.0),
        {"health": {"slow_call_seconds": 1}},
    ),
}


def _gateway(fakes: dict[str, FakeProvider], settings: dict) -> Gateway:
    config = fake_config("crm_sync", *fakes)
    config["providers"][next(iter(fakes))].update(settings)
    return Gateway.from_config(config, registry=fake_registry(fakes), env={})


def _contact(i: int):
    from aicmo_gateway.ports import Contact

    return Contact(email=f"lead{i}@example.com", first_name="Ada")


async def _load(gateway: Gateway, calls: int, every: float = 0.02) -> list:
    """``calls`` upserts, one started every ``every`` seconds whatever the answers."""

    async def one(i: int):
        await asyncio.sleep(i * every)
        return await gateway.crm_sync.upsert_contact(_contact(i))

    return await asyncio.gather(*(one(i) for i in range(calls)))


@pytest.mark.parametrize("slowness", SLOWNESS, ids=list(SLOWNESS))
def test_a_lone_provider_that_always_succeeds_slowly_fails_no_call(slowness):
    profile, settings = SLOWNESS[slowness]
    only = FakeProvider(profile(), name="only")
    gateway = _gateway({"only": only}, settings)

    outcomes = run_virtual(_load(gateway, 3000))  # 60 s at 50 calls a second

    failed = [o for o in outcomes if o.status is not Status.OK]
    assert failed == [], failed[0].reason
    assert only.total_calls == 3000
    # the breaker did open for the slow calls: the provider was demoted, yet still served
    assert any(a.action is Action.SKIP for o in outcomes for a in o.attempts)


@pytest.mark.parametrize("slowness", ["brownout", "always-over-the-limit"])
def test_a_slow_provider_is_demoted_behind_a_healthy_one(slowness):
    profile, settings = SLOWNESS[slowness]
    slow = FakeProvider(profile(), name="slow")
    backup = FakeProvider(profiles.healthy(latency=0.05), name="backup")
    gateway = _gateway({"slow": slow, "backup": backup}, settings)

    outcomes = run_virtual(_load(gateway, 3000))

    assert all(o.status is Status.OK for o in outcomes)
    served = [o.provider for o in outcomes[-1000:]]
    # the last 20 s: the backup serves; the slow one gets a probe now and then
    assert served.count("backup") >= 950
    assert backup.total_calls >= 1000


def test_a_real_failure_makes_a_slow_open_hard_again():
    clock = [0.0]
    health = ProviderHealth(
        HealthPolicy(slow_call_seconds=1, consecutive_failures=2, open_seconds=10),
        clock=lambda: clock[0],
    )
    for _ in range(2):
        permit = health.acquire()
        assert permit is not None
        health.record(permit, ok=True, duration=5)
    assert health.acquire() is None and health.demoted()
    assert "slow" in (health.skip_reason() or "")
    permit = health.acquire(last_resort=True)
    assert permit is not None and permit.last_resort
    health.record(permit, ok=True, duration=5)  # slow again: still only demoted
    assert health.demoted() and health.snapshot().trips == 1
    permit = health.acquire(last_resort=True)
    assert permit is not None
    health.record(permit, ok=False, duration=0.1)
    assert not health.demoted()
    assert health.acquire(last_resort=True) is None


@pytest.mark.parametrize(
    "policy",
    [
        {"consecutive_failures": 1},
        {"consecutive_failures": 1, "window_size": 0, "min_calls": 0},
        {"consecutive_failures": 2, "window_size": 0, "min_calls": 0, "slow_call_seconds": 1},
    ],
    ids=["one-failure", "no-window", "failure-then-slow-without-a-window"],
)
def test_a_breaker_opened_by_failures_is_not_bypassed_as_a_last_resort(policy):
    health = ProviderHealth(HealthPolicy(**policy), clock=lambda: 0.0)
    for ok, duration in [(False, 0.1), (True, 5.0)]:
        permit = health.acquire()
        if permit is None:
            break
        health.record(permit, ok=ok, duration=duration)
    assert health.acquire() is None
    assert not health.demoted()
    assert health.acquire(last_resort=True) is None
    assert "failure" in (health.skip_reason() or "")


def test_a_cooldown_is_never_bypassed_as_a_last_resort():
    clock = [0.0]
    health = ProviderHealth(
        HealthPolicy(slow_call_seconds=1, consecutive_failures=1), clock=lambda: clock[0]
    )
    permit = health.acquire()
    assert permit is not None
    health.record(permit, ok=True, duration=5)
    health.cool_down(30, "429")
    assert not health.demoted()
    assert health.acquire(last_resort=True) is None


def test_the_dry_run_plan_lists_a_demoted_provider_last():
    slow = FakeProvider(profiles.slow(median=2.0), name="slow")
    backup = FakeProvider(name="backup")
    gateway = _gateway({"slow": slow, "backup": backup}, {"health": {"slow_call_seconds": 1}})

    async def scenario():
        for i in range(5):
            await gateway.crm_sync.upsert_contact(_contact(i))
        return gateway.chains["crm_sync"].plan()

    plan = run_virtual(scenario())
    assert [(s.provider, s.would_try) for s in plan] == [("backup", True), ("slow", True)]
    assert "slow" in plan[1].reason and "last" in plan[1].reason


def test_status_shows_a_provider_demoted_for_slow_calls(tmp_path):
    from click.testing import CliRunner

    from aicmo_gateway.cli import cli

    config = tmp_path / "aicmo-gateway.toml"
    config.write_text(
        '[gateway]\nstate_dir = "state"\n'
        '[capabilities.crm_sync]\nproviders = ["slow", "backup"]\n'
        '[providers.slow]\ntype = "fake"\nname = "slow"\nhealth = { slow_call_seconds = 1 }\n'
        '[providers.backup]\ntype = "fake"\nname = "backup"\n',
        encoding="utf-8",
    )
    fakes = {
        "slow": FakeProvider(profiles.slow(median=2.0), name="slow"),
        "backup": FakeProvider(name="backup"),
    }
    gateway = Gateway.from_config(config, registry=fake_registry(fakes), env={})

    async def scenario():
        for i in range(5):
            await gateway.crm_sync.upsert_contact(_contact(i))
        await gateway.aclose()

    run_virtual(scenario())
    rows = {row["provider"]: row for row in gateway.status()}
    assert rows["slow"]["demoted"] and not rows["backup"]["demoted"]
    shown = CliRunner().invoke(cli, ["status", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "open (demoted)" in shown.output
    as_json = CliRunner().invoke(cli, ["status", "--config", str(config), "--json"])
    assert '"demoted": true' in as_json.output
