"""Every documented Dropcontact failure, against the contract fake.

Follows developer.dropcontact.com: en/errors (always read ``success``; messages in
``reason``, or in ``detail`` for 404, 422, 500; 400 "Too many records, you can only submit
up to 250 records"; a 403 when the account has not enough credits for the whole batch),
en/credits (the batch is refused whole with a 403), en/rate-limits (60 requests a second,
429) and en/reference/enrich-a-batch-of-records. A failed call is a failure: never a
"deliverable" verdict.
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

SUBMIT = "/v1/enrich/all"


def refuse(httpserver: HTTPServer, body: object, status: int, **headers: str) -> None:
    httpserver.expect_request(SUBMIT, method="POST").respond_with_json(
        body, status=status, headers=headers
    )


async def test_a_refused_token_is_an_auth_error_with_the_fix(httpserver: HTTPServer, make_provider):
    refuse(httpserver, {"error": True, "reason": "Invalid token", "success": False}, 401)
    with pytest.raises(AuthError, match=r"HTTP 401.*app\.dropcontact\.com/api"):
        await make_provider().verify("ada@example.com")


async def test_not_enough_credits_is_a_quota_error(httpserver: HTTPServer, make_provider):
    body = {"error": True, "reason": "You don't have enough credits", "success": False}
    refuse(httpserver, body, 403)
    with pytest.raises(QuotaExhausted, match="not enough credits for this batch"):
        await make_provider().verify_many(["a@example.com", "b@example.com"])


async def test_another_403_is_an_auth_error(httpserver: HTTPServer, make_provider):
    refuse(httpserver, {"error": True, "reason": "Forbidden", "success": False}, 403)
    with pytest.raises(AuthError) as caught:
        await make_provider().verify("ada@example.com")
    assert not isinstance(caught.value, QuotaExhausted)


async def test_a_refused_batch_is_invalid_input_naming_dropcontacts_reason(
    httpserver: HTTPServer, make_provider
):
    body = {
        "error": True,
        "reason": (
            "Data size is too big, you can only submit up to 15 kB of data in a single record"
        ),
        "success": False,
    }
    refuse(httpserver, body, 400)
    with pytest.raises(InvalidInput, match="15 kB"):
        await make_provider().verify("ada@example.com")


async def test_a_wrong_base_url_answering_404_is_a_configuration_error(
    httpserver: HTTPServer, make_provider
):
    refuse(httpserver, {"detail": "Not Found"}, 404)
    with pytest.raises(AuthError, match="HTTP 404: Not Found"):
        await make_provider().verify("ada@example.com")


async def test_a_422_is_invalid_input(httpserver: HTTPServer, make_provider):
    body = {"detail": [{"loc": ["body", "data"], "msg": "field required", "type": "missing"}]}
    refuse(httpserver, body, 422)
    with pytest.raises(InvalidInput, match="field required"):
        await make_provider().verify("ada@example.com")


@pytest.mark.parametrize(("headers", "wait"), [({"Retry-After": "12"}, 12.0), ({}, None)])
async def test_a_429_is_rate_limited_with_the_wait_if_given(
    httpserver: HTTPServer, make_provider, headers, wait
):
    refuse(httpserver, {"error": True, "reason": "Too Many Requests"}, 429, **headers)
    with pytest.raises(RateLimited, match="HTTP 429") as caught:
        await make_provider().verify("ada@example.com")
    assert caught.value.retry_after == wait


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_on_submission_is_unavailable_never_ambiguous(
    httpserver: HTTPServer, make_provider, status
):
    refuse(httpserver, {"detail": "Internal Server Error"}, status)
    with pytest.raises(Unavailable, match=f"HTTP {status}") as caught:
        await make_provider().verify("ada@example.com")
    assert not isinstance(caught.value, Ambiguous)


async def test_no_answer_within_the_timeout_is_unavailable(httpserver: HTTPServer, make_provider):
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(SUBMIT).respond_with_handler(slow)
    with pytest.raises(Unavailable, match="ReadTimeout") as caught:
        await make_provider(timeout=0.2).verify("ada@example.com")
    assert not isinstance(caught.value, Ambiguous)


@pytest.mark.parametrize("body", ["<html>bad gateway</html>", "[]", "null"])
async def test_a_submission_answer_that_is_not_a_json_object_is_unavailable(
    httpserver: HTTPServer, make_provider, body
):
    httpserver.expect_request(SUBMIT).respond_with_data(body, content_type="application/json")
    with pytest.raises(Unavailable):
        await make_provider().verify("ada@example.com")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"error": True, "reason": "Not enough credits", "success": False}, QuotaExhausted),
        ({"error": True, "reason": "Something went wrong", "success": False}, Unavailable),
        ({"success": True}, Unavailable),  # no request id
    ],
)
async def test_a_200_that_accepts_no_batch_is_a_failure(
    httpserver: HTTPServer, make_provider, body, error
):
    refuse(httpserver, body, 200)
    with pytest.raises(error):
        await make_provider().verify("ada@example.com")


async def test_a_refused_token_while_polling_stops_the_polling(
    httpserver: HTTPServer, fake, make_provider
):
    httpserver.clear()
    httpserver.expect_request(SUBMIT, method="POST").respond_with_handler(fake.submit)
    httpserver.expect_request("/v1/enrich/all/req1").respond_with_json(
        {"error": True, "reason": "Invalid token"}, status=401
    )
    with pytest.raises(AuthError):
        await make_provider().verify("ada@example.com")
    assert len(httpserver.log) == 2


@pytest.mark.parametrize("encode", [str, lambda key: b64encode(key.encode()).decode()])
async def test_the_token_never_shows_even_when_dropcontact_echoes_it(
    httpserver: HTTPServer, make_provider, api_key, log_lines, encode
):
    refuse(httpserver, {"error": True, "reason": f"Invalid token {encode(api_key)}"}, 401)
    provider = make_provider()
    with pytest.raises(AuthError) as caught:
        await provider.verify("ada@example.com")
    shown = " ".join([str(caught.value), repr(caught.value), repr(provider)])
    assert api_key not in shown and encode(api_key) not in shown
    assert "********" in str(caught.value)
    assert not any(api_key in line for line in log_lines)


async def test_an_echoed_token_in_a_not_ready_reason_is_masked_at_poll_timeout(
    httpserver: HTTPServer, fake, make_provider, api_key
):
    httpserver.clear()
    httpserver.expect_request(SUBMIT, method="POST").respond_with_handler(fake.submit)
    httpserver.expect_request("/v1/enrich/all/req1").respond_with_json(
        {"success": False, "reason": f"not ready for {api_key}"}
    )
    with pytest.raises(Unavailable) as caught:
        await make_provider(poll_timeout=0.2).verify("ada@example.com")
    assert api_key not in str(caught.value)
    assert "********" in str(caught.value)
