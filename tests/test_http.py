"""The shared HTTP layer against a real local HTTP server (pytest-httpserver)."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import attrs
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aicmo_gateway import Ambiguous, AuthError, InvalidInput, RateLimited, Secret, Unavailable
from aicmo_gateway.http import (
    HttpClient,
    RequestPacer,
    check_base_url,
    error_for_status,
    fingerprint,
    parse_retry_after,
    retry_after_of,
)
from aicmo_gateway.testing import loop_time, run_virtual

SECRET = "sk_live_Sup3rS3cret"


@pytest.fixture
async def client(httpserver: HTTPServer):
    http = HttpClient(
        httpserver.url_for("/"),
        timeout=2.0,
        headers={"Authorization": Secret(f"Bearer {SECRET}")},
        provider="acme",
    )
    yield http
    await http.aclose()


# -- Retry-After and reset headers -----------------------------------------------------------

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("Mon, 30 Nov 2026 12:00:30 GMT", 30.0),
        ("Mon, 30 Nov 2026 11:00:00 GMT", 0.0),
        ("99999999999", 86_400.0),
        ("inf", None),
        ("nan", None),
        ("1e400", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("1" * 100, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, expected: float | None):
    assert parse_retry_after(value, now=NOW) == expected


def test_a_reset_header_is_read_when_retry_after_is_absent():
    assert retry_after_of({"X-RateLimit-Reset": "7"}, now=NOW) == 7.0
    unix = str(int((NOW + timedelta(seconds=40)).timestamp()))
    assert retry_after_of({"RateLimit-Reset": unix}, now=NOW) == 40.0
    assert retry_after_of({"Retry-After": "3", "RateLimit-Reset": "9"}, now=NOW) == 3.0
    assert retry_after_of({"RateLimit-Reset": "never"}, now=NOW) is None


# -- statuses to errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "write", "expected"),
    [
        (400, False, InvalidInput),
        (422, True, InvalidInput),
        (413, True, InvalidInput),
        (401, False, AuthError),
        (403, True, AuthError),
        (404, False, AuthError),
        (409, True, Unavailable),
        (429, True, RateLimited),
        (500, False, Unavailable),
        (500, True, Ambiguous),
        (502, True, Ambiguous),
        (504, True, Ambiguous),
        (503, True, Unavailable),
        (418, False, Unavailable),
    ],
)
def test_each_status_maps_to_the_error_the_chain_expects(status, write, expected):
    error = error_for_status(status, "detail", write=write)
    assert type(error) is expected
    assert f"HTTP {status}: detail" in str(error)


def test_a_503_with_a_wait_is_a_rate_limit_and_2xx_is_no_error():
    error = error_for_status(503, "", write=True, retry_after=12.0)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 12.0
    assert error_for_status(204, "", write=True) is None


# -- base_url -------------------------------------------------------------------------------------


@attrs.frozen
class _Settings:
    base_url: str = attrs.field(validator=check_base_url)


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        ("api.example.com", "http:// or https://"),
        ("ftp://api.example.com", "http:// or https://"),
        ("https://user:pw@api.example.com", "api_key"),
        ("https://api.example.com/?key=1", "query"),
        ("https://api.example.com:99999", "not a valid URL"),
        ("https://api.example.com/\r\nX: y", "control characters"),
        ("", "expected a URL"),
    ],
)
def test_a_bad_base_url_is_refused_with_the_fix(value: str, fix: str):
    with pytest.raises(ValueError, match="base_url") as caught:
        _Settings(value)
    assert fix in str(caught.value)
    assert "user:pw" not in str(caught.value)


def test_a_good_base_url_is_accepted():
    assert _Settings("http://127.0.0.1:8080/v1").base_url == "http://127.0.0.1:8080/v1"


# -- requests against a real server ---------------------------------------------------------------


async def test_a_json_answer_is_returned_with_what_was_sent(httpserver: HTTPServer, client):
    httpserver.expect_request(
        "/v1/things",
        method="POST",
        json={"name": "ada"},
        headers={"Authorization": f"Bearer {SECRET}", "Idempotency-Key": "k1"},
    ).respond_with_json({"id": "t_1"}, status=201)
    response = await client.request(
        "POST", "/v1/things", json={"name": "ada"}, headers={"Idempotency-Key": "k1"}, write=True
    )
    assert response.status == 201
    assert response.json() == {"id": "t_1"}
    assert httpserver.log[0][0].headers["User-Agent"].startswith("aicmo-gateway/")


async def test_a_429_carries_the_wait_the_service_asked_for(httpserver: HTTPServer, client):
    httpserver.expect_request("/limited").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "30"}
    )
    with pytest.raises(RateLimited, match="slow down") as caught:
        await client.request("GET", "/limited", write=False)
    assert caught.value.retry_after == 30.0


async def test_a_5xx_after_a_write_is_ambiguous_and_after_a_read_unavailable(
    httpserver: HTTPServer, client
):
    httpserver.expect_request("/boom").respond_with_data("oops", status=500)
    with pytest.raises(Ambiguous, match="may have performed"):
        await client.request("POST", "/boom", json={}, write=True)
    with pytest.raises(Unavailable) as caught:
        await client.request("GET", "/boom", write=False)
    assert not isinstance(caught.value, Ambiguous)


async def test_a_422_names_the_vendors_message(httpserver: HTTPServer, client):
    httpserver.expect_request("/v").respond_with_json(
        {"error": {"type": "INVALID_VALUE", "message": "Field 'Email' is invalid"}}, status=422
    )
    with pytest.raises(InvalidInput, match="INVALID_VALUE"):
        await client.request("POST", "/v", json={}, write=True)


async def test_a_message_in_reason_is_named_and_a_flag_is_not_taken_for_it(
    httpserver: HTTPServer, client
):
    httpserver.expect_request("/r").respond_with_json(
        {"error": True, "reason": "Too many records, at most 250", "success": False}, status=400
    )
    with pytest.raises(InvalidInput) as caught:
        await client.request("POST", "/r", json={}, write=False)
    assert str(caught.value) == "HTTP 400: Too many records, at most 250"


async def test_redirects_are_not_followed(httpserver: HTTPServer, client):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "http://169.254.169.254/latest"}
    )
    with pytest.raises(AuthError, match="base_url"):
        await client.request("GET", "/old", write=False)
    assert len(httpserver.log) == 1


async def test_malformed_json_after_a_write_is_ambiguous(httpserver: HTTPServer, client):
    httpserver.expect_request("/w").respond_with_data("<html>proxy error</html>", status=200)
    response = await client.request("POST", "/w", json={}, write=True)
    with pytest.raises(Ambiguous, match="not JSON"):
        response.json()
    read = await client.request("GET", "/w", write=False)
    with pytest.raises(Unavailable, match="not JSON"):
        read.json()


async def test_an_oversized_answer_is_not_read_into_memory(httpserver: HTTPServer):
    httpserver.expect_request("/big").respond_with_data(b"x" * 50_000)
    http = HttpClient(httpserver.url_for("/"), max_response_bytes=10_000)
    try:
        with pytest.raises(Unavailable, match="larger than 10000 bytes"):
            await http.request("GET", "/big", write=False)
    finally:
        await http.aclose()


async def test_a_refused_connection_is_unavailable_even_for_a_write():
    http = HttpClient("http://127.0.0.1:9", timeout=1.0)  # the discard port: nothing listens
    try:
        with pytest.raises(Unavailable, match="nothing was sent") as caught:
            await http.request("POST", "/x", json={}, write=True)
        assert not isinstance(caught.value, Ambiguous)
    finally:
        await http.aclose()


async def test_a_timeout_after_a_write_was_sent_is_ambiguous(httpserver: HTTPServer):
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", status=200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    http = HttpClient(httpserver.url_for("/"), timeout=0.2)
    try:
        with pytest.raises(Ambiguous, match="ReadTimeout"):
            await http.request("POST", "/slow", json={}, write=True)
        with pytest.raises(Unavailable, match="ReadTimeout") as caught:
            await http.request("GET", "/slow", write=False)
        assert not isinstance(caught.value, Ambiguous)
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    "echo",
    [
        SECRET,
        quote(f"Bearer {SECRET}", safe=""),
        base64.b64encode(f"Bearer {SECRET}".encode()).decode(),
        base64.b64encode(SECRET.encode()).decode(),
    ],
)
async def test_a_secret_the_server_echoes_is_masked(
    httpserver: HTTPServer, client, echo: str, log_lines: list[str]
):
    httpserver.expect_request("/auth").respond_with_json(
        {"message": f"invalid key {echo}"}, status=401
    )
    with pytest.raises(AuthError) as caught:
        await client.request("GET", "/auth", write=False)
    shown = f"{caught.value!s} {caught.value!r} {client!r}"
    assert SECRET not in shown
    assert echo not in shown
    assert "********" in str(caught.value)
    assert not any(SECRET in line for line in log_lines)


async def test_a_secret_added_later_is_masked_too(httpserver: HTTPServer, client):
    token = "eyJhbGciOiJIUzI1NiJ9.session.t0ken"
    httpserver.expect_request("/x").respond_with_json({"message": f"bad {token}"}, status=400)
    client.add_secrets(Secret(token))
    with pytest.raises(InvalidInput) as caught:
        await client.request("GET", "/x", headers={"Authorization": f"Bearer {token}"}, write=False)
    assert token not in str(caught.value) and "********" in str(caught.value)
    assert client.scrub(f"x {SECRET} y") == "x ******** y"  # the first secrets stay masked


async def test_header_values_with_control_characters_are_refused(client):
    with pytest.raises(InvalidInput, match="control characters"):
        await client.request("GET", "/", headers={"X-Id": "a\r\nBcc: x"}, write=False)


def test_the_client_repr_shows_no_secret():
    http = HttpClient("https://api.example.com", headers={"X-Api-Key": Secret(SECRET)})
    assert SECRET not in repr(http)
    assert http.scrub(f"key={SECRET}") == "key=********"


def test_importing_the_http_layer_does_not_import_httpx():
    code = "import sys, aicmo_gateway.http; print('httpx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


async def test_requests_are_logged_without_query_or_secret(
    httpserver: HTTPServer, client, log_lines: list[str]
):
    httpserver.expect_request("/q").respond_with_json({})
    await client.request("GET", "/q?api_key=abc", write=False)
    assert any("GET /q -> 200" in line for line in log_lines)
    assert not any("abc" in line or SECRET in line for line in log_lines)


async def test_exact_bytes_go_to_an_absolute_url_with_the_host_and_extensions_given(
    httpserver: HTTPServer,
):
    # a signed payload is sent byte for byte; an address resolved beforehand is connected to
    # while the Host header names the service, and request extensions reach the transport
    seen: list[tuple[bytes, str | None]] = []

    def handler(request: Request) -> Response:
        seen.append((request.get_data(), request.headers.get("Host")))
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    body = b'{"b": 1,  "a": "\\u00e9"}'
    http = HttpClient("https://hooks.example.com", timeout=2.0)
    try:
        await http.request(
            "POST",
            httpserver.url_for("/hook"),
            content=body,
            headers={"Host": "hooks.example.com", "content-type": "application/json"},
            extensions={"trace": None},
            write=True,
        )
    finally:
        await http.aclose()
    assert seen == [(body, "hooks.example.com")]


async def test_request_extensions_reach_the_transport():
    import httpx

    extensions: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        extensions.append(dict(request.extensions))
        return httpx.Response(204)

    http = HttpClient("https://203.0.113.7", transport=httpx.MockTransport(handler))
    try:
        await http.request(
            "POST", "/x", content=b"x", write=True, extensions={"sni_hostname": "a.example"}
        )
    finally:
        await http.aclose()
    assert extensions[0]["sni_hostname"] == "a.example"
    assert "timeout" in extensions[0]


async def test_a_secret_in_a_request_path_is_not_logged(httpserver: HTTPServer, log_lines):
    httpserver.expect_request("/hooks/catch/123/Zt0kenZt0ken/").respond_with_json({})
    http = HttpClient(httpserver.url_for("/"), secrets=["Zt0kenZt0ken"])
    try:
        await http.request("POST", "/hooks/catch/123/Zt0kenZt0ken/", json={}, write=True)
    finally:
        await http.aclose()
    assert any("POST /hooks/catch/123/********/ -> 200" in line for line in log_lines)
    assert not any("Zt0kenZt0ken" in line for line in log_lines)


# -- RequestPacer: a shared request rate and 429 lockouts ------------------------------------


def _starts_in_any_window(starts: list[float], period: float) -> int:
    return max(sum(1 for t in starts if s <= t < s + period) for s in starts)


def test_a_pacer_never_starts_more_than_its_limit_in_any_period():
    async def main() -> list[float]:
        pacer = RequestPacer(5, 1.0)
        starts: list[float] = []

        async def one() -> None:
            await pacer.acquire()
            starts.append(loop_time())

        await asyncio.gather(*(one() for _ in range(23)))
        return starts

    starts = run_virtual(main())
    assert len(starts) == 23
    assert _starts_in_any_window(starts, 1.0) == 5
    assert max(starts) == pytest.approx(4.0)  # 23 requests at 5/s: the last one starts at 4s


def test_shared_pacers_are_one_allowance_per_key():
    first = RequestPacer.shared(("test_http", "base-a"), 5)
    assert RequestPacer.shared(("test_http", "base-a"), 5) is first
    assert RequestPacer.shared(("test_http", "base-b"), 5) is not first


def test_a_lockout_refuses_every_caller_until_it_ends():
    async def main() -> tuple[list[float | None], float]:
        pacer = RequestPacer(5, 1.0)
        await pacer.acquire()
        pacer.lock_out(30)
        waits = []
        for _ in range(3):
            with pytest.raises(RateLimited) as caught:
                await pacer.acquire()
            waits.append(caught.value.retry_after)
        await asyncio.sleep(30)
        await pacer.acquire()  # over: requests go again
        return waits, pacer.locked_for

    waits, left = run_virtual(main())
    assert waits == [30.0, 30.0, 30.0]
    assert left == 0.0


def test_a_caller_waiting_for_its_slot_is_stopped_by_a_lockout_meanwhile():
    async def main() -> str:
        pacer = RequestPacer(1, 1.0)
        await pacer.acquire()
        waiting = asyncio.ensure_future(pacer.acquire())  # its slot is 1s away
        await asyncio.sleep(0.5)
        pacer.lock_out(30)
        with pytest.raises(RateLimited, match="locked out"):
            await waiting
        return "stopped"

    assert run_virtual(main()) == "stopped"


def test_a_hold_delays_callers_and_a_too_long_wait_is_refused():
    async def main() -> tuple[float, float | None]:
        pacer = RequestPacer(None, max_wait=5.0)
        pacer.hold(2.0)
        await pacer.acquire()
        waited = loop_time()
        pacer.hold(60.0)
        with pytest.raises(RateLimited) as caught:
            await pacer.acquire()
        return waited, caught.value.retry_after

    waited, retry_after = run_virtual(main())
    assert waited == pytest.approx(2.0)
    assert retry_after == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 5, "period": 0}, "period"),
        ({"limit": 5, "max_wait": -1}, "max_wait"),
    ],
)
def test_a_pacer_with_nonsense_settings_is_refused(kwargs: dict[str, float], message: str):
    with pytest.raises(ValueError, match=message):
        RequestPacer(**kwargs)  # type: ignore[arg-type]


def test_a_fingerprint_does_not_contain_the_secret():
    assert SECRET not in fingerprint(SECRET)
    assert fingerprint(SECRET) == fingerprint(SECRET) != fingerprint(SECRET + "x")


# -- bodies other than JSON --------------------------------------------------------------------


async def test_raw_bytes_and_multipart_forms_are_sent_as_given(httpserver: HTTPServer, client):
    seen: list[dict[str, object]] = []

    def record(request: Request) -> Response:
        seen.append(
            {
                "type": request.mimetype,
                "body": request.get_data() if not request.files else None,
                "form": dict(request.form),
                "files": {k: (f.filename, f.mimetype, f.read()) for k, f in request.files.items()},
            }
        )
        request.close()
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/blob", method="POST").respond_with_handler(record)
    httpserver.expect_request("/form", method="POST").respond_with_handler(record)
    await client.request(
        "POST", "/blob", content=b"\x89PNG\x00", headers={"Content-Type": "image/png"}, write=True
    )
    await client.request(
        "POST",
        "/form",
        data={"description": "a red circle"},
        files={"file": ("circle.png", b"\x89PNG\x01", "image/png")},
        write=True,
    )
    blob, form = seen
    assert blob["type"] == "image/png" and blob["body"] == b"\x89PNG\x00"
    assert form["type"] == "multipart/form-data"
    assert form["form"] == {"description": "a red circle"}
    assert form["files"] == {"file": ("circle.png", "image/png", b"\x89PNG\x01")}


async def test_two_bodies_in_one_request_are_refused(client):
    with pytest.raises(ValueError, match="give one body"):
        await client.request("POST", "/x", json={}, content=b"{}", write=True)
