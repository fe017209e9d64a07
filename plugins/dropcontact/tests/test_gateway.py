"""Dropcontact through the gateway: both capabilities, batching, waterfalls, failures.

Follows developer.dropcontact.com: en/rate-limits (250 records per request), en/errors
(a failed call is a failure) and en/reference/fetch-enrichment-results.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway_dropcontact import plugin
from pytest_httpserver import HTTPServer

from aicmo_gateway import Gateway, Status
from aicmo_gateway.plugins import Registry
from aicmo_gateway.ports import Lead, Verdict
from aicmo_gateway.testing import FakeProvider, fake_plugin


def gateway(capability: str, settings: dict[str, Any], *others: str, **table: Any) -> Gateway:
    fakes = {name: FakeProvider(name=name) for name in others}
    registry = Registry.from_plugins(
        {"aicmo-gateway-dropcontact": plugin, "fakes": fake_plugin(**fakes)}, strict=True
    )
    providers: dict[str, Any] = {"dropcontact": {"type": "dropcontact", **settings}}
    providers.update({name: {"type": "fake", "name": name} for name in others})
    return Gateway.from_config(
        {
            "capabilities": {
                capability: {"providers": ["dropcontact", *others], **table},
            },
            "providers": providers,
        },
        registry=registry,
        env={},
    )


async def test_the_gateway_cuts_a_large_verification_into_submissions_of_250(fake, settings_for):
    addresses = [f"p{i}@example.com" for i in range(300)]
    async with gateway("email_verification", settings_for()) as gw:
        outcome = await gw.email_verification.verify_many(addresses)
    assert outcome.status is Status.OK
    assert [len(s["data"]) for s in fake.submissions] == [250, 50]
    assert [v.address for v in outcome.value] == addresses


async def test_a_verifier_that_fails_never_reports_an_address_deliverable(
    httpserver: HTTPServer, settings_for
):
    httpserver.expect_request("/v1/enrich/all").respond_with_json(
        {"detail": "Internal Server Error"}, status=500
    )
    async with gateway("email_verification", settings_for()) as gw:
        outcome = await gw.email_verification.verify("ada@example.com")
    assert outcome.status is Status.FAILED
    assert outcome.value is None
    assert outcome.attempts[0].error == "Unavailable"


async def test_spent_credits_fall_back_to_the_next_verifier(
    httpserver: HTTPServer, settings_for, api_key
):
    httpserver.expect_request("/v1/enrich/all").respond_with_json(
        {"error": True, "reason": f"Not enough credits for {api_key}", "success": False},
        status=403,
    )
    async with gateway("email_verification", settings_for(), "backup") as gw:
        outcome = await gw.email_verification.verify("ada@example.com")
    assert outcome.provider == "backup"
    assert outcome.attempts[0].error == "QuotaExhausted"
    assert api_key not in repr(outcome)


async def test_an_unknown_verdict_goes_on_in_a_waterfall(fake, settings_for):
    fake.answer = lambda sent: {
        "email": [{"email": sent["email"], "qualification": "non_validated@pro"}]
    }
    async with gateway("email_verification", settings_for(), "backup", strategy="waterfall") as gw:
        outcome = await gw.email_verification.verify("ada@example.com")
    assert outcome.provider == "backup"
    assert [a.provider for a in outcome.attempts] == ["dropcontact", "backup"]


async def test_a_deliverable_verdict_is_served_by_dropcontact(fake, settings_for):
    async with gateway("email_verification", settings_for(), "backup") as gw:
        outcome = await gw.email_verification.verify("ada@example.com")
    assert outcome.provider == "dropcontact"
    assert outcome.value.verdict is Verdict.DELIVERABLE


async def test_an_empty_enrichment_goes_on_to_the_next_enricher(fake, settings_for):
    fake.answer = lambda sent: dict(sent)  # only the lead, echoed
    async with gateway("lead_enrichment", settings_for(), "backup", strategy="waterfall") as gw:
        outcome = await gw.lead_enrichment.enrich(Lead(email="ada@example.com"))
    assert outcome.provider == "backup"
    assert outcome.attempts[0].error is None


async def test_a_lead_dropcontact_enriches_stops_the_waterfall(fake, settings_for):
    fake.answer = lambda sent: {**sent, "job": "CEO", "company": "Acme"}
    async with gateway("lead_enrichment", settings_for(), "backup", strategy="waterfall") as gw:
        outcome = await gw.lead_enrichment.enrich(Lead(email="ada@example.com"))
    assert outcome.provider == "dropcontact"
    assert outcome.value.title == "CEO"
