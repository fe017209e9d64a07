"""Verdicts against a real DNS server (dnslib on 127.0.0.1, see conftest).

The DNS cases, one domain each:

- ``good.example.com``: two MX records                   -> deliverable
- ``big.example.com``: 40 MX, truncated over UDP, TCP    -> deliverable
- ``aonly.example.com``: only an A record (implicit MX)  -> deliverable
- ``v6only.example.com``: only an AAAA record            -> deliverable
- ``nullmx.example.com``: null MX (RFC 7505)             -> undeliverable
- ``missing.example.com``: NXDOMAIN                      -> undeliverable
- ``bücher.example.com``: asked as ``xn--bcher-kva...``  -> undeliverable (NXDOMAIN)
- ``parked.example.com``: exists, no MX, A or AAAA       -> undeliverable
- ``broken.example.com``: the server answers SERVFAIL    -> unknown
- ``silent.example.com``: the server never answers       -> unknown (timeout)
- ``flaky-a.example.com``: no MX, then SERVFAIL for A    -> unknown
- ``mailinator.com``: a listed disposable domain         -> risky
- ``info@good.example.com``: a role account              -> risky
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aicmo_gateway_verify import plugin
from aicmo_gateway_verify.roles import ROLE_ACCOUNTS, role_of

from aicmo_gateway.ports import Verdict, Verification


async def verify(settings: dict[str, Any], address: str) -> Verification:
    return await plugin.create(**settings).verify(address)


async def test_a_domain_with_mx_records_is_deliverable_naming_the_best_server(settings):
    result = await verify(settings, "ada@good.example.com")
    assert result.verdict is Verdict.DELIVERABLE
    assert result.reason == (
        "the domain good.example.com accepts mail at mx1.good.example.com (MX 10)"
    )
    assert result.checks["dns"] == "mx"
    assert result.checks["mail_servers"] == ("mx1.good.example.com", "mx2.good.example.com")
    assert (result.disposable, result.role_account) == (False, False)


async def test_an_mx_answer_too_big_for_udp_is_fetched_over_tcp(settings, dns_server: Any):
    result = await verify(settings, "ada@big.example.com")
    assert result.verdict is Verdict.DELIVERABLE
    assert len(result.checks["mail_servers"]) == 40
    assert [q[2] for q in dns_server.zones.asked("big.example.com.", "MX")] == ["udp", "tcp"]


async def test_a_domain_with_only_an_a_record_is_deliverable_by_implicit_mx(settings):
    result = await verify(settings, "ada@aonly.example.com")
    assert result.verdict is Verdict.DELIVERABLE
    assert result.checks["dns"] == "implicit_mx"
    assert "implicit MX" in result.reason


async def test_a_domain_with_only_an_aaaa_record_is_deliverable_by_implicit_mx(settings):
    result = await verify(settings, "ada@v6only.example.com")
    assert result.verdict is Verdict.DELIVERABLE
    assert result.checks["dns"] == "implicit_mx"


async def test_a_null_mx_is_undeliverable(settings):
    result = await verify(settings, "ada@nullmx.example.com")
    assert result.verdict is Verdict.UNDELIVERABLE
    assert result.checks["dns"] == "null_mx"
    assert "null MX (RFC 7505)" in result.reason


async def test_a_domain_that_does_not_exist_is_undeliverable(settings):
    result = await verify(settings, "ada@missing.example.com")
    assert result.verdict is Verdict.UNDELIVERABLE
    assert result.reason == "the domain missing.example.com does not exist (NXDOMAIN)"


async def test_a_domain_without_mx_or_address_records_is_undeliverable(settings):
    result = await verify(settings, "ada@parked.example.com")
    assert result.verdict is Verdict.UNDELIVERABLE
    assert result.checks["dns"] == "no_mail_route"


async def test_servfail_is_unknown_never_undeliverable(settings):
    result = await verify(settings, "ada@broken.example.com")
    assert result.verdict is Verdict.UNKNOWN
    assert result.checks["dns"] == "servfail"
    assert "SERVFAIL" in result.reason and "try again later" in result.reason


async def test_a_nameserver_that_never_answers_gives_unknown_within_the_timeout(impatient):
    started = time.monotonic()
    result = await verify(impatient, "ada@silent.example.com")
    elapsed = time.monotonic() - started
    assert result.verdict is Verdict.UNKNOWN
    assert result.checks["dns"] == "timeout"
    assert f"no answer within {impatient['timeout']:g}s" in result.reason
    assert elapsed < 3  # bounded by the timeout, not by dnspython's 5-second default


async def test_a_failed_address_lookup_after_no_mx_is_unknown(settings):
    result = await verify(settings, "ada@flaky-a.example.com")
    assert result.verdict is Verdict.UNKNOWN
    assert result.checks["dns"] == "servfail"


async def test_a_disposable_domain_with_mx_is_risky(settings):
    result = await verify(settings, "someone@mailinator.com")
    assert result.verdict is Verdict.RISKY
    assert result.disposable is True
    assert result.reason.startswith("a disposable address (mailinator.com")


async def test_a_role_account_is_risky_with_the_reason(settings):
    result = await verify(settings, "info@good.example.com")
    assert result.verdict is Verdict.RISKY
    assert result.role_account is True
    assert result.reason.startswith("a role account ('info' names a function")


async def test_an_undeliverable_domain_outweighs_a_role_account(settings):
    result = await verify(settings, "postmaster@missing.example.com")
    assert result.verdict is Verdict.UNDELIVERABLE
    assert result.role_account is True


async def test_a_dns_failure_stays_unknown_for_a_role_account(settings):
    result = await verify(settings, "sales@broken.example.com")
    assert result.verdict is Verdict.UNKNOWN
    assert "role account" in result.reason


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("ada.example.com", "An email address must have an @-sign."),
        ("ada@@good.example.com", "The part after the @-sign contains invalid characters"),
        ("ada@localhost", "It should have a period"),
        ("ada@good.example.invalid", "special-use or reserved name"),
    ],
)
async def test_invalid_syntax_is_undeliverable_with_email_validators_message(
    settings, dns_server: Any, address, message
):
    result = await verify(settings, address)
    assert result.verdict is Verdict.UNDELIVERABLE
    assert message in result.reason
    assert result.checks["syntax"] == "invalid"
    assert dns_server.zones.queries == []  # no lookup for an address that cannot exist


async def test_the_domain_is_looked_up_in_ascii_and_the_address_kept_as_given(
    settings, dns_server: Any
):
    result = await verify(settings, "Ada@GOOD.Example.com")
    assert result.address == "Ada@GOOD.Example.com"
    assert result.checks["normalized"] == "Ada@good.example.com"
    assert dns_server.zones.asked("good.example.com.", "MX")


async def test_an_internationalized_domain_is_looked_up_in_its_ascii_form(
    settings, dns_server: Any
):
    result = await verify(settings, "ada@bücher.example.com")
    assert result.verdict is Verdict.UNDELIVERABLE
    assert result.checks["domain"] == "xn--bcher-kva.example.com"
    assert dns_server.zones.asked("xn--bcher-kva.example.com.", "MX")


async def test_check_mx_false_looks_nothing_up_and_claims_nothing(settings, dns_server: Any):
    verifier = plugin.create(**settings, check_mx=False)
    plain, role, disposable = [
        await verifier.verify(a)
        for a in ("ada@good.example.com", "info@good.example.com", "x@eu.mailinator.com")
    ]
    assert plain.verdict is Verdict.UNKNOWN and "check_mx = false" in plain.reason
    assert role.verdict is Verdict.RISKY
    assert disposable.verdict is Verdict.RISKY and disposable.disposable is True
    assert dns_server.zones.queries == []


async def test_verify_many_keeps_order_and_looks_each_domain_up_once(settings, dns_server: Any):
    addresses = [
        "ada@good.example.com",
        "not an address",
        "bob@missing.example.com",
        "info@good.example.com",
        "eve@broken.example.com",
        "cy@good.example.com",
    ]
    results = await plugin.create(**settings).verify_many(addresses)
    assert [r.address for r in results] == addresses
    assert [r.verdict for r in results] == [
        Verdict.DELIVERABLE,
        Verdict.UNDELIVERABLE,
        Verdict.UNDELIVERABLE,
        Verdict.RISKY,
        Verdict.UNKNOWN,
        Verdict.DELIVERABLE,
    ]
    assert len(dns_server.zones.asked("good.example.com.", "MX")) == 1


async def test_verify_many_looks_domains_up_concurrently_and_at_most_twenty_at_once(
    settings, monkeypatch
):
    from aicmo_gateway_verify import verifier as module
    from aicmo_gateway_verify.lookup import Route

    in_flight, most = 0, 0

    async def mail_route(resolver: Any, domain: str) -> Route:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return Route("mx", (f"mx.{domain}",), "ok")

    monkeypatch.setattr(module, "mail_route", mail_route)
    addresses = [f"ada@d{n}.example.com" for n in range(50)]
    results = await plugin.create(**settings).verify_many(addresses)
    assert len(results) == 50
    assert most == module.MAX_CONCURRENT_LOOKUPS == 20


@pytest.mark.parametrize(
    "local", ["info", "Sales", "postmaster", "no_reply", "no.reply", "support+eu", "Mailer-Daemon"]
)
def test_role_accounts_are_recognised(local):
    assert role_of(local) is not None


@pytest.mark.parametrize("local", ["ada", "ada.lovelace", "information", "salesperson"])
def test_a_persons_address_is_not_a_role_account(local):
    assert role_of(local) is None


def test_the_role_list_covers_rfc_2142():
    rfc_2142 = {"info", "marketing", "sales", "support", "abuse", "noc", "security"}
    rfc_2142 |= {"postmaster", "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp"}
    assert rfc_2142 <= ROLE_ACCOUNTS
