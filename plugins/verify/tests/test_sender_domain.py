"""The sender-domain check (SPF, DMARC, DKIM) against the local DNS server, and in doctor.

The zone (see conftest) holds one domain per case under ``senders.example``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aicmo_gateway_verify.lookup import build_resolver
from aicmo_gateway_verify.sender_domain import PROFILES, DomainFinding, check_sender_domain
from aicmo_gateway_verify.settings import Nameserver
from click.testing import CliRunner

from aicmo_gateway.cli import cli

from .conftest import SHORT_TIMEOUT, TIMEOUT


def resolver(server: Any, timeout: float = TIMEOUT) -> Any:
    return build_resolver([Nameserver("127.0.0.1", server.port)], timeout)


async def check(server: Any, domain: str, **kwargs: Any) -> dict[str, DomainFinding]:
    found = await check_sender_domain(resolver(server), domain, **kwargs)
    return {f.item: f for f in found}


async def test_a_domain_with_spf_dmarc_and_dkim_passes(dns_server):
    found = await check(dns_server, "ok.senders.example", profile=PROFILES["google-workspace"])
    assert all(f.ok for f in found.values()), found
    assert found["SPF"].detail == (
        "ok.senders.example has SPF 'v=spf1 include:_spf.google.com ~all' (4 of 10 DNS lookups)"
    )
    assert "policy reject" in found["DMARC"].detail
    # a key split over two TXT strings is read whole
    assert found["DKIM"].detail == "google._domainkey.ok.senders.example publishes a rsa key"
    assert dns_server.zones.asked("google._domainkey.ok.senders.example.", "TXT")


async def test_a_domain_with_nothing_gets_each_record_to_publish(dns_server):
    found = await check(dns_server, "nothing.senders.example", dkim_selector="s1")
    assert not any(f.ok for f in found.values())
    assert found["SPF"].fix == ('add a TXT record at nothing.senders.example: "v=spf1 a mx ~all"')
    assert found["DMARC"].fix == (
        "add a TXT record at _dmarc.nothing.senders.example: "
        '"v=DMARC1; p=none; rua=mailto:dmarc-reports@nothing.senders.example"'
    )
    assert "s1._domainkey.nothing.senders.example" in found["DKIM"].fix


async def test_two_spf_records_are_an_error_to_merge(dns_server):
    found = await check(dns_server, "two-spf.senders.example")
    assert not found["SPF"].ok
    assert "2 SPF records" in found["SPF"].detail and "merge them" in found["SPF"].fix


async def test_an_spf_record_that_authorizes_nothing_is_a_problem(dns_server):
    found = await check(dns_server, "deny.senders.example")
    assert not found["SPF"].ok
    assert "authorizes no server" in found["SPF"].detail


async def test_a_known_provider_must_be_included_and_p_none_only_monitors(dns_server):
    found = await check(dns_server, "noinclude.senders.example", profile=PROFILES["microsoft365"])
    assert not found["SPF"].ok
    assert found["SPF"].fix == (
        "add include:spf.protection.outlook.com before the all term of the SPF record at "
        "noinclude.senders.example"
    )
    assert found["DMARC"].ok and "monitors only" in found["DMARC"].detail
    assert "p=quarantine" in found["DMARC"].fix
    assert dns_server.zones.asked("selector1._domainkey.noinclude.senders.example.", "TXT")


async def test_a_dmarc_record_without_a_policy_is_a_problem(dns_server):
    found = await check(dns_server, "nopolicy.senders.example")
    assert found["SPF"].ok
    assert not found["DMARC"].ok and "without a valid policy" in found["DMARC"].detail
    assert found["DKIM"].ok and found["DKIM"].detail == "not checked: no selector known"


async def test_resend_spf_on_the_send_subdomain_strict_alignment_and_a_revoked_key(dns_server):
    found = await check(dns_server, "resend.senders.example", profile=PROFILES["resend"])
    assert found["SPF"].ok and "send.resend.senders.example" in found["SPF"].detail
    assert not found["DMARC"].ok and "aspf=s" in found["DMARC"].detail
    assert not found["DKIM"].ok and "revoked" in found["DKIM"].detail


async def test_dns_failures_are_not_verdicts(dns_server):
    found = await check(dns_server, "broken.example.com")
    assert not found["SPF"].ok and found["SPF"].detail.startswith("not checked:")
    silent = await check_sender_domain(resolver(dns_server, SHORT_TIMEOUT), "silent.example.com")
    assert not silent[0].ok and "no answer within" in silent[0].detail


@pytest.fixture
def config(tmp_path: Path, dns_server: Any) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[providers.box]
type = "maildir"
path = "{tmp_path / "mail"}"
default_sender = "Ada <ada@noinclude.senders.example>"

[providers.dns]
type = "dns"
nameservers = ["{dns_server.address}"]

[capabilities.email_sending]
providers = ["box"]

[capabilities.email_verification]
providers = ["dns"]
""",
        encoding="utf-8",
    )
    return path


def test_doctor_live_checks_each_senders_domain(config: Path, dns_server: Any):
    result = CliRunner().invoke(cli, ["doctor", "--config", str(config), "--live", "--json"])
    rows = [r for r in json.loads(result.output) if r["area"] == "sender"]
    assert [(r["item"], r["ok"]) for r in rows] == [
        ("noinclude.senders.example (box) SPF", True),
        ("noinclude.senders.example (box) DMARC", True),
        ("noinclude.senders.example (box) DKIM", True),
    ]
    assert "set dkim_selector" in rows[2]["fix"]
    assert dns_server.zones.asked("_dmarc.noinclude.senders.example.", "TXT")


def test_doctor_without_live_asks_no_dns(config: Path, dns_server: Any):
    result = CliRunner().invoke(cli, ["doctor", "--config", str(config), "--json"])
    assert not [r for r in json.loads(result.output) if r["area"] == "sender"]
    assert not dns_server.zones.asked("_dmarc.noinclude.senders.example.")
