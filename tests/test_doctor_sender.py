"""``doctor --live``: which sender domains are checked, and the check without the verify plugin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aicmo_gateway.cli._sender import SenderDomain, sender_domain_findings, sender_domains
from aicmo_gateway.config.load import CapabilityConfig, GatewayConfig, ProviderConfig


def config(**providers: tuple[str, dict[str, object]]) -> GatewayConfig:
    return GatewayConfig(
        source="test",
        capabilities={"email_sending": CapabilityConfig("email_sending", tuple(providers))},
        providers={n: ProviderConfig(n, t, s) for n, (t, s) in providers.items()},
    )


def test_each_sender_domain_once_with_its_profile_and_selector() -> None:
    found = sender_domains(
        config(
            gmail=("smtp", {"preset": "google-workspace", "username": "ada@Example.com"}),
            backup=("smtp", {"preset": "google-workspace", "username": "bob@example.com"}),
            resend=("resend", {"default_sender": "News <news@mail.example.org>"}),
            own=("smtp", {"host": "x", "sender_domain": "brand.example.", "dkim_selector": "s1"}),
            relay=("smtp", {"host": "x"}),  # no address: nothing to check
            ws=("gmail", {"username": "c@ws.example", "workspace": True}),
        )
    )
    assert found == [
        SenderDomain("example.com", "google-workspace", None, ("gmail", "backup")),
        SenderDomain("mail.example.org", "resend", None, ("resend",)),
        SenderDomain("brand.example", "smtp", "s1", ("own",)),
        SenderDomain("ws.example", "google-workspace", None, ("ws",)),
    ]


def test_without_the_verify_plugin_the_check_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "aicmo_gateway_verify.sender_domain", None)
    [finding] = sender_domain_findings(
        config(box=("maildir", {"path": str(Path("m")), "default_sender": "a@example.com"})), 1.0
    )
    assert (finding.area, finding.item, finding.ok) == ("sender", "example.com", True)
    assert finding.detail == "not checked" and "plugins/verify" in finding.fix


def test_no_sender_address_means_no_dns_work() -> None:
    assert sender_domain_findings(config(box=("maildir", {"path": "m"})), 1.0) == []
