"""Email verification against the contract fake: what is sent, batching, verdicts, polling.

Follows developer.dropcontact.com: en/quickstart (submit, then fetch), en/reference/
enrich-a-batch-of-records (``POST /v1/enrich/all`` with ``data``, ``siren``,
``language``; ``X-Access-Token``), en/reference/fetch-enrichment-results (the not-ready
answer, also for an unknown id; records in input order), en/reference/enriched-record
(``email[].qualification`` as ``localpart@domain``), en/rate-limits (250 records per
request) and en/credits.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from pytest_httpserver import HTTPServer

from aicmo_gateway import InvalidInput, Unavailable
from aicmo_gateway.ports import Verdict
from aicmo_gateway.testing import run_virtual


async def test_an_address_is_submitted_with_the_token_then_polled_for_its_verdict(
    httpserver: HTTPServer, fake, make_provider, api_key
):
    fake.not_ready = 2
    result = await make_provider().verify("Ada.Lovelace@example.com")
    assert fake.submissions == [
        {"data": [{"email": "Ada.Lovelace@example.com"}], "siren": False, "language": "en"}
    ]
    submit, *polls = httpserver.log
    assert submit[0].headers["X-Access-Token"] == api_key
    assert api_key not in submit[0].get_data(as_text=True)
    assert [p[0].path for p in polls] == ["/v1/enrich/all/req1"] * 3
    assert all(p[0].headers["X-Access-Token"] == api_key for p in polls)
    assert result.address == "Ada.Lovelace@example.com"
    assert result.verdict is Verdict.DELIVERABLE
    assert result.reason == "nominative@pro"
    assert result.checks["qualification"] == "nominative@pro"


@pytest.mark.parametrize(
    ("qualification", "verdict", "flags"),
    [
        ("nominative@pro", Verdict.DELIVERABLE, {"disposable": False}),
        ("nominatif@pro", Verdict.DELIVERABLE, {"disposable": False}),
        ("nominative@perso", Verdict.DELIVERABLE, {"free_provider": True}),
        ("catch_all@pro", Verdict.RISKY, {"accept_all": True}),
        ("catch-all@pro", Verdict.RISKY, {"accept_all": True}),
        ("generic@pro", Verdict.RISKY, {"role_account": True}),
        ("generique@pro", Verdict.RISKY, {"role_account": True}),
        ("Do_Not_Contact@pro", Verdict.RISKY, {}),
        ("nominative@disposable", Verdict.RISKY, {"disposable": True}),
        ("nominatif@jetable", Verdict.RISKY, {"disposable": True}),
        ("non_validated@pro", Verdict.UNKNOWN, {}),
        ("non_validé@pro", Verdict.UNKNOWN, {}),
        ("invalid@pro", Verdict.UNDELIVERABLE, {}),
        ("invalide@pro", Verdict.UNDELIVERABLE, {}),
        ("nominative@invalid domain", Verdict.UNDELIVERABLE, {}),
        ("nominatif@domaine invalide", Verdict.UNDELIVERABLE, {}),
        ("valid", Verdict.UNKNOWN, {}),
        ("nominative@mars", Verdict.UNKNOWN, {}),
        ("", Verdict.UNKNOWN, {}),
    ],
)
async def test_qualifications_become_the_ports_verdicts_with_the_vendors_as_reason(
    fake, make_provider, qualification, verdict, flags
):
    fake.answer = lambda sent: {"email": [{"email": sent["email"], "qualification": qualification}]}
    result = await make_provider().verify("ada@example.com")
    assert result.verdict is verdict
    if qualification:
        assert qualification in result.reason
    for flag, value in flags.items():
        assert getattr(result, flag) is value


async def test_no_qualification_for_the_address_is_unknown_never_deliverable(fake, make_provider):
    fake.answer = lambda sent: {
        "first_name": "Ada",
        "email": [{"email": "ada.lovelace@example.com", "qualification": "nominative@pro"}],
    }
    result = await make_provider().verify("ada@example.com")
    assert result.verdict is Verdict.UNKNOWN
    assert "no qualification" in result.reason
    assert result.suggestion == "ada.lovelace@example.com"


async def test_an_invalid_address_names_the_verified_one_dropcontact_found(fake, make_provider):
    fake.answer = lambda sent: {
        "email": [
            {"email": sent["email"], "qualification": "invalid@pro"},
            {"email": "ada.lovelace@example.com", "qualification": "nominative@pro"},
        ]
    }
    result = await make_provider().verify("ada@example.com")
    assert result.verdict is Verdict.UNDELIVERABLE
    assert result.suggestion == "ada.lovelace@example.com"


@pytest.mark.parametrize("address", ["", "ada", "ada@", "@example.com", "a da@example.com"])
async def test_a_string_that_is_no_address_is_refused_before_any_credit_is_spent(
    httpserver: HTTPServer, fake, make_provider, address
):
    with pytest.raises(InvalidInput, match="not an email address"):
        await make_provider().verify(address)
    assert httpserver.log == []


async def test_verify_many_submits_batches_of_250_and_keeps_the_order(fake, make_provider):
    addresses = [f"{'invalid' if i % 7 == 0 else 'p'}{i}@example.com" for i in range(600)]
    results = await make_provider().verify_many(addresses)
    assert [len(s["data"]) for s in fake.submissions] == [250, 250, 100]
    assert [r.address for r in results] == addresses
    assert [r.verdict for r in results] == [
        Verdict.UNDELIVERABLE if i % 7 == 0 else Verdict.DELIVERABLE for i in range(600)
    ]


async def test_siren_and_language_settings_are_sent(fake, make_provider):
    fake.answer = lambda sent: {
        "email": [{"email": sent["email"], "qualification": "nominatif@pro"}]
    }
    result = await make_provider(siren=True, language="fr").verify("ada@example.com")
    assert fake.submissions[0]["siren"] is True
    assert fake.submissions[0]["language"] == "fr"
    assert result.verdict is Verdict.DELIVERABLE


# -- polling ------------------------------------------------------------------------------------


async def test_an_unknown_request_id_is_polled_until_poll_timeout_then_unavailable(
    httpserver: HTTPServer, fake, make_provider
):
    httpserver.clear()  # a service that answers another request id than the one it polls
    httpserver.expect_request("/v1/enrich/all", method="POST").respond_with_json(
        {"request_id": "ghost42", "success": True, "error": False, "credits_left": 9}
    )
    httpserver.expect_request("/v1/enrich/all/ghost42").respond_with_json(
        {
            "error": False,
            "reason": "Request not ready yet, try again in 30 seconds",
            "success": False,
        }
    )
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        await make_provider(poll_interval=0.02, poll_timeout=0.4).verify("ada@example.com")
    elapsed = time.monotonic() - started
    text = str(caught.value)
    assert "ghost42" in text and "poll_timeout = 0.4s" in text and "not ready" in text
    polls = len(httpserver.log) - 1
    assert 2 <= polls <= 6  # 0.02, 0.04, 0.08, 0.16 s waits, then the deadline
    assert elapsed < 10  # generous: polling ends


def test_polling_backs_off_up_to_30_seconds_and_ends_at_poll_timeout_in_virtual_time(
    httpserver: HTTPServer, fake, settings_for
):
    from aicmo_gateway_dropcontact.provider import DropcontactProvider
    from aicmo_gateway_dropcontact.settings import DropcontactSettings

    fake.not_ready = 10_000  # never ready
    settings = DropcontactSettings(**settings_for(poll_interval=5.0, poll_timeout=180.0))

    async def scenario() -> tuple[float, str]:
        provider = DropcontactProvider(settings)
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            await provider.verify("ada@example.com")
        except Unavailable as exc:
            return loop.time() - start, str(exc)
        finally:
            await provider.aclose()
        raise AssertionError("a batch that is never ready must end in Unavailable")

    started = time.monotonic()
    elapsed, text = run_virtual(scenario())
    assert 180.0 <= elapsed < 181.0  # virtual seconds
    assert time.monotonic() - started < 30  # real seconds: generous
    # waits: 5, 10, 20, 30, 30, 30, 30, then the 25 s left
    assert fake.polls == {"req1": 8}
    assert "after 8 polls" in text


async def test_a_5xx_while_polling_is_waited_out_the_batch_is_paid_for(
    httpserver: HTTPServer, fake, make_provider
):
    fake.not_ready = 1
    calls = {"n": 0}
    original = fake.fetch

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 1:
            from werkzeug import Response

            return Response("upstream", status=502)
        return original(request)

    httpserver.clear()
    httpserver.expect_request("/v1/enrich/all", method="POST").respond_with_handler(fake.submit)
    httpserver.expect_request("/v1/enrich/all/req1").respond_with_handler(flaky)
    result = await make_provider().verify("ada@example.com")
    assert result.verdict is Verdict.DELIVERABLE
    assert calls["n"] == 3  # 502, not ready, ready


async def test_a_429_while_polling_waits_as_asked_then_goes_on(
    httpserver: HTTPServer, fake, make_provider
):
    calls = {"n": 0}
    original = fake.fetch

    def limited(request):
        calls["n"] += 1
        if calls["n"] == 1:
            from werkzeug import Response

            return Response("{}", status=429, headers={"Retry-After": "0"})
        return original(request)

    httpserver.clear()
    httpserver.expect_request("/v1/enrich/all", method="POST").respond_with_handler(fake.submit)
    httpserver.expect_request("/v1/enrich/all/req1").respond_with_handler(limited)
    result = await make_provider().verify("ada@example.com")
    assert result.verdict is Verdict.DELIVERABLE
    assert calls["n"] == 2


async def test_a_poll_answer_that_is_never_json_ends_at_poll_timeout_naming_it(
    httpserver: HTTPServer, fake, make_provider
):
    httpserver.clear()
    httpserver.expect_request("/v1/enrich/all", method="POST").respond_with_handler(fake.submit)
    httpserver.expect_request("/v1/enrich/all/req1").respond_with_data("<html>oops</html>")
    with pytest.raises(Unavailable, match=r"(?s)req1.*not JSON"):
        await make_provider(poll_timeout=0.3).verify("ada@example.com")


async def test_a_result_with_another_number_of_records_is_a_failure_not_a_guess(
    httpserver: HTTPServer, fake, make_provider
):
    httpserver.clear()
    httpserver.expect_request("/v1/enrich/all", method="POST").respond_with_handler(fake.submit)
    httpserver.expect_request("/v1/enrich/all/req1").respond_with_json(
        {"success": True, "data": [], "error": False}
    )
    with pytest.raises(Unavailable, match="0 records came back for 2 sent"):
        await make_provider().verify_many(["a@example.com", "b@example.com"])


async def test_the_submission_body_is_json_with_one_record_per_address(
    httpserver: HTTPServer, fake, make_provider
):
    await make_provider().verify_many(["a@example.com", "b@example.com"])
    submit = httpserver.log[0][0]
    assert submit.headers["Content-Type"] == "application/json"
    assert json.loads(submit.get_data())["data"] == [
        {"email": "a@example.com"},
        {"email": "b@example.com"},
    ]
