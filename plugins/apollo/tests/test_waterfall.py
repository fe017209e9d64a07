"""Apollo in a ``waterfall`` chain: an empty match goes on to the next enricher.

Follows docs.apollo.io/reference/people-enrichment ("you might receive a 200 response, but
the response indicates that no records have been enriched") and
reference/bulk-people-enrichment (``null`` in ``matches`` for a person not matched).
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway_apollo import plugin
from pytest_httpserver import HTTPServer

from aicmo_gateway import Gateway, Status
from aicmo_gateway.plugins import Registry
from aicmo_gateway.ports import Lead
from aicmo_gateway.testing import FakeProvider, fake_plugin

LEAD = Lead(email="ada@example.com", first_name="Ada")


def gateway(settings: dict[str, Any], backup: FakeProvider, **capability: Any) -> Gateway:
    registry = Registry.from_plugins(
        {"aicmo-gateway-apollo": plugin, "fakes": fake_plugin(backup=backup)}, strict=True
    )
    return Gateway.from_config(
        {
            "capabilities": {
                "lead_enrichment": {
                    "providers": ["apollo", "backup"],
                    "strategy": "waterfall",
                    **capability,
                }
            },
            "providers": {
                "apollo": {"type": "apollo", **settings},
                "backup": {"type": "fake", "name": "backup"},
            },
        },
        registry=registry,
        env={},
    )


async def test_an_empty_match_goes_on_to_the_next_enricher(
    httpserver: HTTPServer, settings_for, api_key
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json({"person": None})
    backup = FakeProvider(name="backup")
    async with gateway(settings_for(), backup) as gw:
        outcome = await gw.lead_enrichment.enrich(LEAD)
    assert outcome.status is Status.OK
    assert outcome.provider == "backup"
    assert outcome.value.found and outcome.value.email == "ada@example.com"
    assert [a.provider for a in outcome.attempts] == ["apollo", "backup"]
    assert outcome.attempts[0].error is None  # an empty answer, not a failure
    assert api_key not in repr(outcome)


async def test_a_match_stops_the_waterfall_at_apollo(httpserver: HTTPServer, settings_for, person):
    httpserver.expect_request("/api/v1/people/match").respond_with_json({"person": person()})
    backup = FakeProvider(name="backup")
    async with gateway(settings_for(), backup) as gw:
        outcome = await gw.lead_enrichment.enrich(LEAD)
    assert outcome.provider == "apollo"
    assert outcome.value.attributes["sources"]["title"] == "apollo:people/match"
    assert backup.total_calls == 0


async def test_a_refused_key_falls_back_and_is_reported_without_the_key(
    httpserver: HTTPServer, settings_for, api_key
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"error": f"Invalid API key {api_key}"}, status=401
    )
    backup = FakeProvider(name="backup")
    async with gateway(settings_for(), backup) as gw:
        outcome = await gw.lead_enrichment.enrich(LEAD)
    assert outcome.provider == "backup"
    assert outcome.attempts[0].error == "AuthError"
    assert api_key not in repr(outcome) and api_key not in str(outcome.attempts[0].detail)


async def test_the_gateway_cuts_a_large_batch_into_bulk_requests_of_ten(
    httpserver: HTTPServer, settings_for, person
):
    import json

    from werkzeug import Request, Response

    def answer(request: Request) -> Response:
        details = json.loads(request.get_data())["details"]
        matches = [person(email=d["email"]) for d in details]
        return Response(json.dumps({"matches": matches}), content_type="application/json")

    httpserver.expect_request("/api/v1/people/bulk_match").respond_with_handler(answer)
    leads = [Lead(email=f"p{i}@example.com") for i in range(25)]
    async with gateway(settings_for(), FakeProvider(name="backup")) as gw:
        outcome = await gw.lead_enrichment.enrich_many(leads)
    assert outcome.provider == "apollo"
    assert [r.email for r in outcome.value] == [lead.email for lead in leads]
    sizes = [len(json.loads(entry[0].get_data())["details"]) for entry in httpserver.log]
    assert sizes == [10, 10, 5]
