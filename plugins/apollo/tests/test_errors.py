"""Every documented Apollo failure, against the contract fake.

Follows docs.apollo.io: reference/status-codes and reference/errors-1 (401 invalid key,
403 ``API_INACCESSIBLE`` when the endpoint is not open to the key or plan, 404, 422,
429, 500), reference/rate-limits (``retry-after`` and the ``x-rate-limit-*``,
``x-minute-requests-left``, ``x-hourly-requests-left``, ``x-24-hour-requests-left`` /
``x-daily-requests-left`` headers; windows per minute, hour and day) and docs/api-pricing
(credits; a request Apollo refuses for spent credits is a quota, not an outage).
"""

from __future__ import annotations

import time
from base64 import b64encode

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aicmo_gateway import (
    Ambiguous,
    AuthError,
    InvalidInput,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)
from aicmo_gateway.ports import Lead

LEAD = Lead(email="ada@example.com")
MATCH = "/api/v1/people/match"


def answer(httpserver: HTTPServer, body: object, status: int, **headers: str) -> None:
    httpserver.expect_request(MATCH).respond_with_json(body, status=status, headers=headers)


async def test_a_refused_key_is_an_auth_error_with_the_fix(httpserver: HTTPServer, make_enricher):
    answer(httpserver, {"error": "Invalid access credentials."}, 401)
    with pytest.raises(AuthError, match=r"HTTP 401.*Settings > Integrations > API"):
        await make_enricher().enrich(LEAD)


async def test_an_endpoint_outside_the_plan_is_an_auth_error_naming_what_to_change(
    httpserver: HTTPServer, make_enricher
):
    body = {
        "error": "api/v1/people/match is not accessible with this api_key on a free plan.",
        "error_code": "API_INACCESSIBLE",
    }
    answer(httpserver, body, 403)
    with pytest.raises(AuthError) as caught:
        await make_enricher().enrich(LEAD)
    text = str(caught.value)
    assert "HTTP 403" in text and "not accessible" in text
    assert "master key" in text and "free plan does not" in text
    assert not isinstance(caught.value, QuotaExhausted)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (422, {"error": "You have insufficient credits to enrich this record."}),
        (403, {"error": "Your team is out of credits", "error_code": "INSUFFICIENT_CREDITS"}),
        (402, {"message": "Payment required"}),
        (429, {"error": "Monthly credit limit reached"}),
    ],
)
async def test_spent_credits_are_a_quota_error(httpserver: HTTPServer, make_enricher, status, body):
    answer(httpserver, body, status)
    with pytest.raises(QuotaExhausted, match="credits are spent"):
        await make_enricher().enrich(LEAD)


async def test_a_wrong_base_url_answering_404_is_a_configuration_error(
    httpserver: HTTPServer, make_enricher
):
    answer(httpserver, {"detail": "Not Found"}, 404)
    with pytest.raises(AuthError, match="HTTP 404"):
        await make_enricher().enrich(LEAD)


async def test_a_422_is_invalid_input_naming_apollos_message(httpserver: HTTPServer, make_enricher):
    answer(httpserver, {"error": "Not a valid ID"}, 422)
    with pytest.raises(InvalidInput, match="Not a valid ID"):
        await make_enricher().enrich(LEAD)


@pytest.mark.parametrize(
    ("headers", "message", "wait"),
    [
        ({"retry-after": "17"}, "Too many requests", 17.0),
        ({"x-rate-limit-minute": "50", "x-minute-requests-left": "0"}, "Too many", 60.0),
        ({"x-hourly-requests-left": "0", "x-minute-requests-left": "3"}, "Too many", 3600.0),
        ({"x-24-hour-requests-left": "0"}, "Too many", 86400.0),
        ({"x-daily-requests-left": "0"}, "Too many", 86400.0),
        (
            {},
            "The maximum number of api calls allowed for api/v1/people/match is 600 times "
            "per hour. Please upgrade your plan",
            3600.0,
        ),
        ({}, "Too many requests", None),
    ],
)
async def test_a_429_waits_as_long_as_apollos_headers_say(
    httpserver: HTTPServer, make_enricher, headers, message, wait
):
    answer(httpserver, {"error": message}, 429, **headers)
    with pytest.raises(RateLimited, match="HTTP 429") as caught:
        await make_enricher().enrich(LEAD)
    assert caught.value.retry_after == wait


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_is_unavailable_never_ambiguous_for_a_read(
    httpserver: HTTPServer, make_enricher, status
):
    answer(httpserver, {"error": "Internal Server Error"}, status)
    with pytest.raises(Unavailable, match=f"HTTP {status}") as caught:
        await make_enricher().enrich(LEAD)
    assert not isinstance(caught.value, Ambiguous)


async def test_no_answer_within_the_timeout_is_unavailable(httpserver: HTTPServer, make_enricher):
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(MATCH).respond_with_handler(slow)
    with pytest.raises(Unavailable, match="ReadTimeout"):
        await make_enricher(timeout=0.2).enrich(LEAD)


@pytest.mark.parametrize("body", ["<html>gateway error</html>", "[1, 2]", '"person"'])
async def test_a_body_that_is_not_a_json_object_is_unavailable(
    httpserver: HTTPServer, make_enricher, body
):
    httpserver.expect_request(MATCH).respond_with_data(body, content_type="application/json")
    with pytest.raises(Unavailable):
        await make_enricher().enrich(LEAD)


@pytest.mark.parametrize("encode", [str, lambda key: b64encode(key.encode()).decode()])
async def test_the_key_never_shows_even_when_apollo_echoes_it(
    httpserver: HTTPServer, make_enricher, api_key, log_lines, encode
):
    answer(httpserver, {"error": f"Invalid API key {encode(api_key)}"}, 401)
    enricher = make_enricher()
    with pytest.raises(AuthError) as caught:
        await enricher.enrich(LEAD)
    shown = " ".join(
        [str(caught.value), repr(caught.value), repr(enricher), repr(enricher.settings)]
    )
    assert api_key not in shown and encode(api_key) not in shown
    assert "********" in str(caught.value)
    assert not any(api_key in line for line in log_lines)
