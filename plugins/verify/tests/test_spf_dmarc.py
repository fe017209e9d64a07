"""SPF chains counted against the RFC 7208 limits, and DMARC found at the organizational domain.

Against the local DNS server (see conftest's zone); nothing reaches the system resolver.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway_verify.dmarc import tree_walk
from aicmo_gateway_verify.sender_domain import PROFILES
from aicmo_gateway_verify.spf import walk_spf

from .test_sender_domain import check, resolver


async def test_a_chain_over_ten_lookups_is_a_permerror_with_the_chain_and_the_fix(dns_server):
    found = await check(dns_server, "toolong.senders.example")
    spf = found["SPF"]
    assert not spf.ok
    assert "needs 11 DNS lookups: over the limit of 10 (RFC 7208 section 4.6.4)" in spf.detail
    assert spf.detail.endswith(
        "the chain: toolong.senders.example (8) -> _spf.google.com (3) -> "
        "_netblocks.google.com (0) -> _netblocks2.google.com (0) -> _netblocks3.google.com (0) "
        "-> spf.protection.outlook.com (0) -> amazonses.com (0) -> servers.mcsv.example (0) "
        "-> mail.zendesk.example (0) -> sendgrid.example (0)"
    )
    assert "ip4:/ip6:" in spf.fix and "10 lookups or fewer" in spf.fix
    # every include was asked of the local server
    assert dns_server.zones.asked("_netblocks3.google.com.", "TXT")


async def test_a_chain_within_the_limit_reports_its_lookups(dns_server):
    found = await check(dns_server, "ok.senders.example", profile=PROFILES["google-workspace"])
    assert found["SPF"].ok
    assert found["SPF"].detail.endswith("(4 of 10 DNS lookups)")


async def test_more_than_two_void_lookups_is_a_permerror_naming_them(dns_server):
    found = await check(dns_server, "voids.senders.example")
    assert not found["SPF"].ok
    assert "3 domains with no records" in found["SPF"].detail
    assert found["SPF"].fix == (
        "remove the terms naming gone1.senders.example, gone2.senders.example, "
        "gone3.senders.example from the SPF chain of voids.senders.example"
    )


async def test_a_loop_and_an_include_without_spf_are_permerrors(dns_server):
    loop = (await check(dns_server, "loop.senders.example"))["SPF"]
    assert not loop.ok and "loops back: loop.senders.example -> loop2.senders.example" in (
        loop.detail
    )
    bad = (await check(dns_server, "badinclude.senders.example"))["SPF"]
    assert not bad.ok
    assert "include:nospf.senders.example names a domain without an SPF record" in bad.detail


async def test_the_provider_may_be_reached_through_a_redirect_or_a_nested_include(dns_server):
    for domain, lookups in (("redirect.senders.example", 4), ("nested.senders.example", 5)):
        found = await check(dns_server, domain, profile=PROFILES["gmail"])
        assert found["SPF"].ok, found["SPF"]
        assert found["SPF"].detail.endswith(f"({lookups} of 10 DNS lookups)")


async def test_a_ptr_term_is_counted_and_its_replacement_suggested(dns_server):
    found = await check(dns_server, "ptr.senders.example")
    assert found["SPF"].ok and "(1 of 10 DNS lookups)" in found["SPF"].detail
    assert "deprecated (RFC 7208 section 5.5)" in found["SPF"].fix


async def test_the_walk_stops_counting_a_chain_that_includes_itself_through_a_macro(
    dns_server: Any,
):
    walk = await walk_spf(
        resolver(dns_server), "m.example", "v=spf1 include:%{d}.x.example exists:%{i}.y ~all"
    )
    assert walk.lookups == 2 and not walk.errors and not walk.voids


async def test_dmarc_falls_back_to_the_organizational_domain_and_its_subdomain_policy(
    dns_server,
):
    found = await check(dns_server, "news.org.example")
    dmarc = found["DMARC"]
    assert dmarc.ok
    assert dmarc.detail == (
        "news.org.example has no DMARC record of its own; the organizational domain's "
        "_dmarc.org.example 'v=DMARC1; p=reject; sp=quarantine' applies (RFC 7489 section "
        "6.6.3), policy quarantine from sp="
    )
    assert dns_server.zones.asked("_dmarc.news.org.example.", "TXT")
    assert not dns_server.zones.asked("_dmarc.example.", "TXT")  # never the top-level domain


async def test_dmarc_walks_up_several_labels_and_p_none_only_monitors(dns_server):
    dmarc = (await check(dns_server, "mail.deep.news.org2.example"))["DMARC"]
    assert dmarc.ok and "_dmarc.org2.example" in dmarc.detail and "monitors only" in dmarc.detail
    assert "sp=quarantine at _dmarc.org2.example" in dmarc.fix
    for name in ("mail.deep.news.org2.example", "deep.news.org2.example", "news.org2.example"):
        assert dns_server.zones.asked(f"_dmarc.{name}.", "TXT")


async def test_a_public_suffix_record_is_not_the_senders_policy(dns_server):
    dmarc = (await check(dns_server, "shop.suffix.example"))["DMARC"]
    assert not dmarc.ok and "psd=y" in dmarc.detail
    assert dmarc.fix.startswith("add a TXT record at _dmarc.shop.suffix.example")


def test_the_tree_walk_skips_the_top_level_domain_and_shortens_long_names():
    assert tree_walk("a.b.example.com") == ["a.b.example.com", "b.example.com", "example.com"]
    assert tree_walk("example.com") == ["example.com"]
    long = ".".join(f"l{n}" for n in range(10)) + ".example"
    walk = tree_walk(long)
    assert walk[0] == long
    assert walk[1] == "l4.l5.l6.l7.l8.l9.example"  # the last 7 labels
    assert walk[-1] == "l9.example" and len(walk) == 7


def test_doctor_live_reports_the_inherited_dmarc_and_the_spf_chain_over_the_limit(
    tmp_path: Any, dns_server: Any
):
    import json

    from click.testing import CliRunner

    from aicmo_gateway.cli import cli

    config = tmp_path / "gateway.toml"
    providers = []
    for name, domain in (("news", "news.org.example"), ("bulk", "toolong.senders.example")):
        providers.append(name)
        config.write_text(
            (config.read_text(encoding="utf-8") if config.exists() else "")
            + f'[providers.{name}]\ntype = "maildir"\npath = "{tmp_path / name}"\n'
            f'default_sender = "Ada <ada@{domain}>"\n\n',
            encoding="utf-8",
        )
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[providers.dns]\ntype = "dns"\nnameservers = ["{dns_server.address}"]\n\n'
        f"[capabilities.email_sending]\nproviders = {json.dumps(providers)}\n\n"
        '[capabilities.email_verification]\nproviders = ["dns"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["doctor", "--config", str(config), "--live", "--json"])
    rows = {r["item"]: r for r in json.loads(result.output) if r["area"] == "sender"}
    dmarc = rows["news.org.example (news) DMARC"]
    assert dmarc["ok"] and "organizational domain's _dmarc.org.example" in dmarc["detail"]
    spf = rows["toolong.senders.example (bulk) SPF"]
    assert not spf["ok"] and "needs 11 DNS lookups" in spf["detail"]
    assert "10 lookups or fewer" in spf["fix"]
