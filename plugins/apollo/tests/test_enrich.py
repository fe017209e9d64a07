"""People match, bulk match and organization enrichment against the contract fake.

Follows docs.apollo.io: reference/people-enrichment (``POST /api/v1/people/match``, the
``person`` object, a 200 without a match), reference/bulk-people-enrichment (``details[]``,
at most 10 per request, ``matches[]`` aligned with ``details[]`` and ``null`` for a miss),
reference/organization-enrichment (``GET /api/v1/organizations/enrich?domain=``),
docs/retrieve-mobile-phone-numbers-for-contacts (``reveal_phone_number`` with a
``webhook_url``; the numbers come later, to the webhook) and docs/api-pricing (credits).
"""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aicmo_gateway import Unavailable
from aicmo_gateway.ports import Lead

LEAD = Lead(email="tim@apollo.io")
SOURCE = "apollo:people/match"
API_KEY = "apollo-test-key-Zq8Xw3"  # the key conftest gives every enricher


def sent(httpserver: HTTPServer, index: int = 0) -> dict:
    return json.loads(httpserver.log[index][0].get_data())


async def test_a_match_is_sent_with_the_key_header_and_mapped_with_its_sources(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request(
        "/api/v1/people/match", method="POST", headers={"x-api-key": API_KEY}
    ).respond_with_json({"person": person()})
    result = await make_enricher().enrich(
        Lead(first_name="Tim", last_name="Zheng", domain="apollo.io")
    )
    assert sent(httpserver) == {
        "first_name": "Tim",
        "last_name": "Zheng",
        "domain": "apollo.io",
        "reveal_personal_emails": False,
        "reveal_phone_number": False,
    }
    request = httpserver.log[0][0]
    assert request.query_string == b""  # personal data travels in the body, not the URL
    assert "api_key" not in request.get_data(as_text=True)
    assert result.found
    assert (result.email, result.title, result.company, result.domain) == (
        "tim@apollo.io",
        "Founder & CEO",
        "Apollo.io",
        "apollo.io",
    )
    assert result.location == "San Francisco, California, United States"
    assert (result.industry, result.company_size) == ("information technology & services", "1600")
    assert result.attributes["sources"] == {
        "email": SOURCE,
        "first_name": SOURCE,
        "last_name": SOURCE,
        "title": SOURCE,
        "linkedin_url": SOURCE,
        "location": SOURCE,
        "company": SOURCE,
        "domain": SOURCE,
        "industry": SOURCE,
        "company_size": SOURCE,
    }
    assert result.attributes["apollo_person_id"] == "64a7ff0cc4dfae00013df1a5"
    assert result.attributes["email_status"] == "verified"


@pytest.mark.parametrize("body", [{"person": None}, {}, {"person": {}}])
async def test_a_200_without_a_match_is_an_empty_answer_not_an_error(
    httpserver: HTTPServer, make_enricher, body
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json(body)
    result = await make_enricher().enrich(LEAD)
    assert result.found is False
    assert result.empty
    assert result.email is None


async def test_a_locked_email_placeholder_is_not_reported_as_the_address(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"person": person(email="email_not_unlocked@domain.com")}
    )
    result = await make_enricher().enrich(LEAD)
    assert result.found and result.email is None
    assert "email" not in result.attributes["sources"]


async def test_the_company_comes_from_organization_enrichment_when_the_match_has_none(
    httpserver: HTTPServer, make_enricher, person, organization
):
    bare = {"id": "o1", "name": "Apollo.io", "primary_domain": "apollo.io"}
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"person": person(organization=bare)}
    )
    httpserver.expect_request(
        "/api/v1/organizations/enrich",
        method="GET",
        query_string={"domain": "apollo.io"},
        headers={"x-api-key": API_KEY},
    ).respond_with_json({"organization": organization(estimated_num_employees=1700)})
    result = await make_enricher().enrich(LEAD)
    assert (result.company_size, result.industry) == ("1700", "information technology & services")
    assert result.attributes["sources"]["company_size"] == "apollo:organizations/enrich"
    assert result.attributes["sources"]["company"] == SOURCE  # the match had the name
    assert len(httpserver.log) == 2


async def test_without_an_organization_in_the_match_the_leads_domain_is_enriched(
    httpserver: HTTPServer, make_enricher, person, organization
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"person": person(organization=None, organization_id=None)}
    )
    httpserver.expect_request(
        "/api/v1/organizations/enrich", query_string={"domain": "apollo.io"}
    ).respond_with_json({"organization": organization()})
    result = await make_enricher().enrich(Lead(email="tim@apollo.io", domain="apollo.io"))
    assert (result.company, result.domain) == ("Apollo.io", "apollo.io")
    assert result.attributes["sources"]["company"] == "apollo:organizations/enrich"


async def test_without_any_domain_no_organization_is_looked_up(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"person": person(organization=None)}
    )
    result = await make_enricher().enrich(LEAD)
    assert result.found and result.company is None
    assert len(httpserver.log) == 1


async def test_enrich_company_off_spends_no_organization_credit(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"person": person(organization={"name": "Apollo.io", "primary_domain": "apollo.io"})}
    )
    result = await make_enricher(enrich_company=False).enrich(LEAD)
    assert result.found and result.industry is None
    assert len(httpserver.log) == 1


async def test_a_failed_organization_enrichment_keeps_the_person_and_says_why(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"person": person(organization={"name": "Apollo.io", "primary_domain": "apollo.io"})}
    )
    httpserver.expect_request("/api/v1/organizations/enrich").respond_with_json(
        {"error": "busy"}, status=502
    )
    result = await make_enricher().enrich(LEAD)
    assert result.found and result.email == "tim@apollo.io"
    assert "HTTP 502" in result.attributes["company_error"]


async def test_reveal_phone_asks_for_delivery_to_the_webhook(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request("/api/v1/people/match").respond_with_json({"person": person()})
    hook = "https://hooks.example.com/apollo"
    await make_enricher(reveal_phone=True, webhook_url=hook).enrich(LEAD)
    body = sent(httpserver)
    assert body["reveal_phone_number"] is True
    assert body["webhook_url"] == hook


async def test_a_phone_in_the_synchronous_answer_is_mapped(
    httpserver: HTTPServer, make_enricher, person
):
    numbers = [{"raw_number": "(123) 555-0158", "sanitized_number": "+11235550158"}]
    httpserver.expect_request("/api/v1/people/match").respond_with_json(
        {"person": person(phone_numbers=numbers)}
    )
    result = await make_enricher().enrich(LEAD)
    assert result.phone == "+11235550158"
    assert result.attributes["sources"]["phone"] == SOURCE


# -- bulk match --------------------------------------------------------------------------------


def leads(count: int) -> list[Lead]:
    return [Lead(email=f"p{i}@example.com") for i in range(count)]


def bulk_answer(request: Request, person) -> Response:
    details = json.loads(request.get_data())["details"]
    matches = [
        None if i % 3 == 2 else person(email=d["email"], id=f"id-{d['email']}")
        for i, d in enumerate(details)
    ]
    body = {
        "status": "success",
        "total_requested_enrichments": len(details),
        "unique_enriched_records": sum(m is not None for m in matches),
        "missing_records": sum(m is None for m in matches),
        "credits_consumed": sum(m is not None for m in matches),
        "matches": matches,
    }
    return Response(json.dumps(body), content_type="application/json")


async def test_enrich_many_sends_batches_of_ten_and_keeps_the_order(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request("/api/v1/people/bulk_match", method="POST").respond_with_handler(
        lambda request: bulk_answer(request, person)
    )
    items = leads(23)
    results = await make_enricher().enrich_many(items)
    sizes = [len(sent(httpserver, i)["details"]) for i in range(len(httpserver.log))]
    assert sizes == [10, 10, 3]
    assert sent(httpserver, 0)["details"][0] == {"email": "p0@example.com"}
    assert sent(httpserver, 0)["reveal_phone_number"] is False
    assert len(results) == 23
    for lead, result in zip(items, results, strict=True):
        index = int(lead.email[1:].split("@")[0])  # type: ignore[union-attr]
        if index % 10 % 3 == 2:
            assert result.found is False
        else:
            assert result.email == lead.email
            assert result.attributes["sources"]["email"] == "apollo:people/bulk_match"


async def test_a_bulk_answer_that_cannot_be_aligned_is_a_failure_not_a_guess(
    httpserver: HTTPServer, make_enricher, person
):
    httpserver.expect_request("/api/v1/people/bulk_match").respond_with_json(
        {"status": "success", "matches": [person()]}
    )
    with pytest.raises(Unavailable, match="1 matches for 2 people"):
        await make_enricher().enrich_many(leads(2))


async def test_a_bulk_match_looks_each_company_up_once(
    httpserver: HTTPServer, make_enricher, person, organization
):
    bare = {"name": "Apollo.io", "primary_domain": "apollo.io"}
    httpserver.expect_request("/api/v1/people/bulk_match").respond_with_json(
        {"matches": [person(organization=bare), None, person(organization=bare)]}
    )
    httpserver.expect_request("/api/v1/organizations/enrich").respond_with_json(
        {"organization": organization()}
    )
    results = await make_enricher().enrich_many(leads(3))
    assert [r.found for r in results] == [True, False, True]
    assert results[0].industry == results[2].industry == "information technology & services"
    paths = [entry[0].path for entry in httpserver.log]
    assert paths == ["/api/v1/people/bulk_match", "/api/v1/organizations/enrich"]
