"""The installed distribution: discovery, lazy imports, check(), and verdicts through a chain."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from typing import Any

import dns.resolver
import pytest
from aicmo_gateway_verify import VerifySettings, plugin
from aicmo_gateway_verify.verifier import DnsEmailVerifier

from aicmo_gateway import Action, Gateway, Status, Unavailable
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import Verdict
from aicmo_gateway.testing import FakeProvider, fake_plugin

# -- the distribution --------------------------------------------------------------


def test_discovery_finds_the_dns_verifier_with_its_traits():
    registry = Registry.discover(env={})
    dns_type = registry.get("email_verification", "dns")
    assert dns_type.distribution == "aicmo-gateway-verify"
    assert dns_type.settings is VerifySettings
    declared = {
        "batch_size": None,
        "idempotency": "none",
        "rate_limit": None,
        "quotas": [],
        "has_check": True,
        "priority": 0,
        "simulates": False,
    }
    # the traits it declares (a newer core may list more)
    assert {name: dns_type.traits[name] for name in declared} == declared
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-verify"]
    assert info.status.value == "active" and info.reason is None


def test_importing_the_plugin_and_discovery_load_no_dns_or_validation_library():
    script = textwrap.dedent(
        """
        import sys
        import aicmo_gateway_verify.plugin
        from aicmo_gateway.plugins.registry import Registry
        Registry.discover(env={}).get("email_verification", "dns")
        loaded = [m for m in ("dns", "email_validator", "disposable_email_domains")
                  if m in sys.modules]
        assert not loaded, f"imported at discovery: {loaded}"
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_the_factory_builds_a_verifier_from_config_keys(dns_server):
    verifier = plugin.create(nameservers=[dns_server.address], timeout=2, check_mx=False)
    assert isinstance(verifier, DnsEmailVerifier)
    assert verifier.settings == VerifySettings(
        nameservers=[dns_server.address], timeout=2, check_mx=False
    )


# -- check() -----------------------------------------------------------------------


async def test_check_asks_the_nameservers_for_the_root_zone(settings, dns_server):
    await plugin.create(**settings).check()
    assert dns_server.zones.asked(".", "NS")


async def test_check_fails_when_the_nameserver_does_not_answer(impatient):
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))  # bound, never read: queries go unanswered
    try:
        address = f"127.0.0.1:{closed.getsockname()[1]}"
        verifier = plugin.create(nameservers=[address], timeout=impatient["timeout"])
        with pytest.raises(Unavailable, match=r"127\.0\.0\.1:\d+ did not answer within 0\.3s"):
            await verifier.check()
    finally:
        closed.close()


# -- the system resolver -------------------------------------------------------------


async def test_without_nameservers_the_system_resolver_is_used(settings, dns_server, monkeypatch):
    def read_resolv_conf(self: dns.resolver.BaseResolver, *_: Any) -> None:
        self.nameservers = [dns_server.address.split(":")[0]]
        self.port = dns_server.port

    monkeypatch.setattr(dns.resolver.BaseResolver, "read_resolv_conf", read_resolv_conf)
    result = await plugin.create(timeout=settings["timeout"]).verify("ada@good.example.com")
    assert result.verdict is Verdict.DELIVERABLE


async def test_without_a_system_resolver_a_lookup_is_unavailable_saying_what_to_set(monkeypatch):
    def read_resolv_conf(*_: Any) -> None:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    monkeypatch.setattr(dns.resolver.BaseResolver, "read_resolv_conf", read_resolv_conf)
    verifier = plugin.create()
    with pytest.raises(Unavailable, match=r"no system DNS resolver.*set nameservers = "):
        await verifier.verify("ada@good.example.com")
    with pytest.raises(Unavailable, match=r"no system DNS resolver"):
        await verifier.verify_many(["ada@good.example.com", "bob@aonly.example.com"])


async def test_the_guard_stops_any_test_that_reaches_for_the_system_resolver():
    with pytest.raises(BaseException) as info:
        await plugin.create().verify("ada@good.example.com")
    assert type(info.value).__name__ == "SystemResolverUsed"
    with pytest.raises(BaseException) as info:
        dns.resolver.resolve("example.com", "MX")
    assert type(info.value).__name__ == "SystemResolverUsed"
    with pytest.raises(BaseException) as info:
        socket.getaddrinfo("example.com", 25)
    assert type(info.value).__name__ == "SystemResolverUsed"
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(BaseException) as info,
    ):
        sock.sendto(b"query", ("192.0.2.53", 53))
    assert type(info.value).__name__ == "SystemResolverUsed"


# -- through a gateway chain -----------------------------------------------------------


def chain(settings: dict[str, Any], *names: str, **capability: Any) -> dict[str, Any]:
    return {
        "capabilities": {"email_verification": {"providers": list(names), **capability}},
        "providers": {
            "dns": {"type": "dns", **settings},
            "second": {"type": "fake", "name": "second"},
        },
    }


@pytest.fixture
def second() -> FakeProvider:
    """A second verifier that always answers deliverable."""
    return FakeProvider(name="second", verdict=Verdict.DELIVERABLE)


@pytest.fixture
def registry(second: FakeProvider) -> Registry:
    return Registry.from_plugins(
        {"aicmo-gateway-verify": plugin, "fakes": fake_plugin(second=second)}, strict=True
    )


async def test_a_gateway_with_dns_verifies_an_address(settings, dns_server):
    gateway = Gateway.from_config(chain(settings, "dns"), env={})
    try:
        outcome = await gateway.email_verification.verify("ada@nullmx.example.com")
        assert outcome.status is Status.OK, outcome
        assert outcome.provider == "dns"
        assert outcome.value.verdict is Verdict.UNDELIVERABLE
        (result,) = await gateway.check(timeout=10)
        assert result.ok, result.detail
    finally:
        await gateway.aclose()


async def test_a_gateway_verifies_many_addresses_in_order(settings, registry):
    gateway = Gateway.from_config(chain(settings, "dns"), registry=registry, env={})
    try:
        outcome = await gateway.email_verification.verify_many(
            ["ada@good.example.com", "ada@missing.example.com", "info@aonly.example.com"]
        )
        assert outcome.status is Status.OK
        assert [v.verdict for v in outcome.value] == [
            Verdict.DELIVERABLE,
            Verdict.UNDELIVERABLE,
            Verdict.RISKY,
        ]
    finally:
        await gateway.aclose()


async def test_failover_returns_an_unknown_verdict_without_asking_the_next_verifier(
    settings, registry, second
):
    gateway = Gateway.from_config(chain(settings, "dns", "second"), registry=registry, env={})
    try:
        outcome = await gateway.email_verification.verify("ada@broken.example.com")
    finally:
        await gateway.aclose()
    assert outcome.status is Status.OK
    assert (outcome.provider, outcome.value.verdict) == ("dns", Verdict.UNKNOWN)
    assert second.total_calls == 0


async def test_a_waterfall_goes_on_to_the_next_verifier_after_unknown(impatient, registry, second):
    config = chain(impatient, "dns", "second", strategy="waterfall")
    gateway = Gateway.from_config(config, registry=registry, env={})
    try:
        outcome = await gateway.email_verification.verify("ada@silent.example.com")
    finally:
        await gateway.aclose()
    assert outcome.status is Status.OK
    assert (outcome.provider, outcome.value.verdict) == ("second", Verdict.DELIVERABLE)
    first = outcome.attempts[0]
    assert (first.provider, first.action, first.detail) == ("dns", Action.FALLBACK, "empty answer")


async def test_a_waterfall_stops_at_a_settled_verdict(settings, registry, second):
    config = chain(settings, "dns", "second", strategy="waterfall")
    gateway = Gateway.from_config(config, registry=registry, env={})
    try:
        outcome = await gateway.email_verification.verify("ada@missing.example.com")
    finally:
        await gateway.aclose()
    assert (outcome.provider, outcome.value.verdict) == ("dns", Verdict.UNDELIVERABLE)
    assert second.total_calls == 0


async def test_a_waterfall_of_dns_alone_reports_unknown_as_an_answer(settings, registry):
    gateway = Gateway.from_config(
        chain(settings, "dns", strategy="waterfall"), registry=registry, env={}
    )
    try:
        outcome = await gateway.email_verification.verify("ada@broken.example.com")
    finally:
        await gateway.aclose()
    assert outcome.status is Status.OK
    assert (outcome.provider, outcome.value.verdict) == ("dns", Verdict.UNKNOWN)
    assert [a.action for a in outcome.attempts] == [Action.DONE]
