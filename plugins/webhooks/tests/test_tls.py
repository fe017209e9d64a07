"""TLS to a pinned address: the certificate is checked for the URL's name, not the address.

A local HTTPS receiver presents a certificate from a throw-away CA (trustme). The endpoint's
name resolves (through a scripted resolver) to 127.0.0.1, so ``allow_private`` is on here; the
guard itself is tested in ``test_ssrf.py``.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from aicmo_gateway_webhooks.endpoint import WebhookEndpoint
from aicmo_gateway_webhooks.settings import WebhookSettings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aicmo_gateway import Unavailable
from aicmo_gateway.ports import WebhookEvent

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NAME = "hooks.example.test"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_server(ca: trustme.CA) -> Iterator[tuple[HTTPServer, list[dict[str, Any]]]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(NAME).configure_cert(context)
    seen: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        seen.append({"host": request.headers.get("Host"), "body": request.get_data()})
        return Response("ok", status=200)

    server = HTTPServer(host="127.0.0.1", ssl_context=context)
    server.expect_request("/hook", method="POST").respond_with_handler(handler)
    server.start()
    yield server, seen
    server.clear()
    server.stop()


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def deliver(url: str, ca: trustme.CA, resolver: Any) -> Any:
    settings = WebhookSettings(url=url, secret=SECRET, allow_private=True)
    target = WebhookEndpoint(settings, resolver=resolver, verify=client_context(ca))
    try:
        return await target.dispatch(WebhookEvent(type="lead.replied", id="evt-tls"))
    finally:
        await target.aclose()


async def test_tls_to_the_pinned_address_verifies_the_certificate_for_the_name(
    https_server, ca, resolver_for
):
    server, seen = https_server
    seen.clear()
    resolver = resolver_for(["127.0.0.1"])
    receipt = await deliver(f"https://{NAME}:{server.port}/hook", ca, resolver)
    assert receipt.status_code == 200
    assert resolver.lookups == [(NAME, server.port)]
    assert seen[0]["host"] == f"{NAME}:{server.port}"


async def test_a_certificate_for_another_name_is_refused_and_nothing_sent(
    https_server, ca, resolver_for
):
    # the address is the same; only the name the certificate must match differs
    server, seen = https_server
    seen.clear()
    with pytest.raises(Unavailable, match="nothing was sent"):
        await deliver(
            f"https://other.example.test:{server.port}/hook", ca, resolver_for(["127.0.0.1"])
        )
    assert seen == []


async def test_a_certificate_from_an_unknown_ca_is_refused(https_server, resolver_for):
    server, seen = https_server
    seen.clear()
    with pytest.raises(Unavailable):
        await deliver(
            f"https://{NAME}:{server.port}/hook", trustme.CA(), resolver_for(["127.0.0.1"])
        )
    assert seen == []
