"""The gateway facade: sync use from threads, live checks, observers, closing."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

import pytest

from aicmo_gateway import Gateway, ProviderType, Status, hookimpl
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage, SendReceipt


def message(i: int) -> EmailMessage:
    return EmailMessage(to=f"user{i}@example.com", subject=f"Hi {i}", text="Hello")


class Counting:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()
        self.closed = False

    async def send(self, msg):
        await asyncio.sleep(0)
        with self.lock:
            self.sent.append(msg.to[0])
        return SendReceipt(message_id=msg.message_id)

    async def aclose(self):
        self.closed = True


def _registry(**factories):
    @hookimpl
    def aicmo_email_senders():
        return [ProviderType(name=name, factory=f) for name, f in factories.items()]

    return Registry.from_plugins(
        {"t": types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)}
    )


def _config(*names):
    return {
        "capabilities": {"email_sending": {"providers": list(names)}},
        "providers": {n: {"type": n} for n in names},
    }


def test_the_sync_facade_is_safe_from_many_threads():
    provider = Counting()
    gateway = Gateway.from_config(
        _config("counting"), registry=_registry(counting=lambda: provider), env={}
    )
    with gateway.sync() as sync, ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda i: sync.email_sending.send(message(i)), range(200)))
    assert all(o.status is Status.OK for o in outcomes)
    assert sorted(provider.sent) == sorted(f"user{i}@example.com" for i in range(200))
    assert provider.closed


def test_the_sync_facade_returns_the_same_outcome_shape():
    gateway = Gateway.from_config(
        _config("counting"), registry=_registry(counting=Counting), env={}
    )
    with gateway.sync() as sync:
        outcome = sync.email_sending.send(message(1), dry_run=True)
    assert outcome.status is Status.SIMULATED and outcome.capability == "email_sending"


async def test_live_checks_run_concurrently_and_one_hanging_check_hides_nothing():
    class Hangs(Counting):
        async def check(self):
            await asyncio.sleep(30)

    class Fails(Counting):
        def check(self):
            raise ConnectionRefusedError("connection refused by relay.example.net")

    class Fine(Counting):
        async def check(self):
            await asyncio.sleep(0.2)

    gateway = Gateway.from_config(
        _config("hangs", "fails", "fine", "plain"),
        registry=_registry(hangs=Hangs, fails=Fails, fine=Fine, plain=Counting),
        env={},
    )
    t0 = time.monotonic()
    results = {r.provider: r for r in await gateway.check(timeout=0.5)}
    elapsed = time.monotonic() - t0
    assert elapsed < 2.0  # concurrently, bounded by the timeout, not 30 s
    assert not results["hangs"].ok and "within 0.5s" in results["hangs"].detail
    assert not results["fails"].ok and "ConnectionRefusedError" in results["fails"].detail
    assert results["fine"].ok
    assert results["plain"].ok and results["plain"].detail == "no live check"


async def test_observers_see_every_attempt_and_every_call(site, make_dist):
    module = make_dist(
        "observer",
        """
from aicmo_gateway import hookimpl
CALLS, ATTEMPTS = [], []

@hookimpl
def aicmo_call_finished(call):
    CALLS.append(call)

@hookimpl
def aicmo_attempt_finished(capability, operation, attempt):
    ATTEMPTS.append((capability, operation, attempt.provider, attempt.action.value))
""",
    )
    make_dist(
        "raising-observer",
        """
from aicmo_gateway import hookimpl

@hookimpl
def aicmo_call_finished(call):
    raise RuntimeError("observer bug")
""",
    )
    registry = Registry.discover(path=[str(site)], env={})
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["broken", "backup"]}},
            "providers": {
                "broken": {"type": "maildir", "path": "/dev/null/x"},
                "backup": {"type": "noop"},
            },
        },
        registry=registry,
        env={},
    )
    outcome = await gateway.email_sending.send(message(1))
    observed = sys.modules[module]
    assert [c.outcome for c in observed.CALLS] == [outcome]
    assert observed.ATTEMPTS == [
        ("email_sending", "send", "broken", "fallback"),
        ("email_sending", "send", "backup", "done"),
    ]


async def test_from_config_reads_the_file_named_by_the_environment(tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text(
        '[capabilities.email_sending]\nproviders = ["n"]\n[providers.n]\ntype = "noop"\n',
        encoding="utf-8",
    )
    gateway = Gateway.from_config(env={"AICMO_GATEWAY_CONFIG": str(path)})
    assert gateway.email_sending.configured
    assert not gateway.crm_sync.configured


def test_from_config_without_any_file_says_where_it_looked(tmp_path, monkeypatch):
    from aicmo_gateway import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="AICMO_GATEWAY_CONFIG"):
        Gateway.from_config(env={})
