"""Deliveries to a real local receiver that verifies every signature, and scripted failures."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aicmo_gateway_webhooks.endpoint import WebhookEndpoint
from aicmo_gateway_webhooks.plugin import webhook_endpoint
from aicmo_gateway_webhooks.settings import WebhookSettings

from aicmo_gateway import Ambiguous, AuthError, InvalidInput, RateLimited, Unavailable
from aicmo_gateway.ports import WebhookEvent

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the receiver's (conftest.py)
PATHS = ("/hooks/a", "/hooks/b", "/hooks/c")


def event(**changes: Any) -> WebhookEvent:
    fields: dict[str, Any] = {
        "type": "lead.replied",
        "data": {"lead": {"email": "ada@example.com", "name": "Adà 🚀 Łukasz 東京"}, "score": 0.5},
        "occurred_at": datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return WebhookEvent(**fields)


async def deliver(settings: dict[str, Any], evt: WebhookEvent, **kwargs: Any) -> Any:
    endpoint = webhook_endpoint(**settings)
    try:
        return await endpoint.dispatch(evt, **kwargs)
    finally:
        await endpoint.aclose()


async def test_a_delivery_is_signed_so_the_reference_library_verifies_it(receiver, settings):
    before = int(time.time())
    receipt = await deliver(settings, event(id="evt-1"))
    (got,) = receiver.requests
    assert got.verified
    assert got.body == event(id="evt-1").to_json().encode()
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == "evt-1"
    assert before <= int(got.headers["webhook-timestamp"]) <= int(time.time())
    assert got.headers["webhook-signature"].startswith("v1,")
    assert json.loads(got.body)["data"]["lead"]["name"] == "Adà 🚀 Łukasz 東京"
    assert receipt.status_code == 200 and receipt.delivery_id == "evt-1" and receipt.performed
    assert receipt.endpoint == receiver.url().split("/hooks")[0]


async def test_the_call_key_is_the_webhook_id_when_the_event_has_none(receiver, settings):
    await deliver(settings, event(), idempotency_key="campaign-7/lead-42")
    assert receiver.ids(PATHS[0]) == ["campaign-7/lead-42"]
    assert receiver.requests[0].verified


async def test_a_key_that_cannot_travel_in_a_header_becomes_a_stable_digest(receiver, settings):
    await deliver(settings, event(), idempotency_key="clé 42")
    await deliver(settings, event(), idempotency_key="clé 42")
    first, second = receiver.ids(PATHS[0])
    assert first == second and first.startswith("msg_") and len(first) == 68
    assert all(r.verified for r in receiver.requests)
    assert len(receiver.processed) == 1  # the receiver dropped the repeated id


async def test_the_receiver_rejects_a_delivery_signed_with_another_secret(receiver, settings):
    other = "whsec_" + "QUJD" * 8
    with pytest.raises(AuthError, match="HTTP 401"):
        await deliver({**settings, "secret": other}, event(id="evt-2"))
    assert [r.verified for r in receiver.requests] == [False]


async def test_extra_headers_are_sent(receiver, settings):
    headers = {"x-make-apikey": "mk-S3cr3t-value", "X-Source": "aicmo"}
    await deliver({**settings, "headers": headers}, event(id="evt-3"))
    (got,) = receiver.requests
    assert got.headers["x-make-apikey"] == "mk-S3cr3t-value"
    assert got.headers["x-source"] == "aicmo"


async def test_a_query_in_the_url_is_sent(receiver, settings):
    await deliver({**settings, "url": receiver.url() + "?team=7"}, event(id="evt-4"))
    assert receiver.requests[0].verified


# -- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_every_2xx_is_a_delivery(receiver, settings, status):
    receiver.answer(PATHS[0], status, process=True)
    receipt = await deliver(settings, event(id="evt-5"))
    assert receipt.status_code == status


async def test_a_500_is_ambiguous_the_receiver_may_have_processed_it(receiver, settings):
    receiver.answer(PATHS[0], 500, body='{"message": "crashed after saving"}')
    with pytest.raises(Ambiguous, match="HTTP 500: webhook: crashed after saving"):
        await deliver(settings, event(id="evt-6"))


async def test_a_429_carries_the_retry_after_wait(receiver, settings):
    receiver.answer(PATHS[0], 429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as caught:
        await deliver(settings, event(id="evt-7"))
    assert caught.value.retry_after == 7.0
    assert receiver.processed == []


async def test_a_503_with_retry_after_is_a_rate_limit_and_without_it_unavailable(
    receiver, settings
):
    receiver.answer(PATHS[0], 503, headers={"Retry-After": "12"})
    receiver.answer(PATHS[0], 503)
    with pytest.raises(RateLimited) as caught:
        await deliver(settings, event(id="evt-8"))
    assert caught.value.retry_after == 12.0
    with pytest.raises(Unavailable) as plain:
        await deliver(settings, event(id="evt-8"))
    assert not isinstance(plain.value, RateLimited)


async def test_a_410_disables_the_endpoint_and_nothing_more_is_sent(receiver, settings):
    receiver.answer(PATHS[0], 410, body="webhook deleted")
    endpoint = webhook_endpoint(**settings)
    try:
        with pytest.raises(AuthError, match=r"HTTP 410.*disabled until the gateway is restarted"):
            await endpoint.dispatch(event(id="evt-9"))
        assert endpoint.disabled is not None
        with pytest.raises(AuthError, match=r"HTTP 410.*\(not sent\)"):
            await endpoint.dispatch(event(id="evt-10"))
        with pytest.raises(AuthError, match="410"):
            await endpoint.check()
    finally:
        await endpoint.aclose()
    assert len(receiver.requests) == 1


async def test_a_timeout_after_the_body_was_sent_is_ambiguous(receiver, settings):
    receiver.answer(PATHS[0], 200, delay=2.0)
    started = time.perf_counter()
    with pytest.raises(Ambiguous, match="may have been processed"):
        await deliver({**settings, "timeout": 0.3}, event(id="evt-11"))
    assert time.perf_counter() - started < 1.5
    assert len(receiver.processed) == 1  # it was processed: retrying must reuse the id


async def test_a_reset_connection_after_sending_is_ambiguous(receiver, settings):
    receiver.answer(PATHS[0], reset=True)
    with pytest.raises(Ambiguous, match="may have been processed"):
        await deliver(settings, event(id="evt-12"))


async def test_a_refused_connection_is_unavailable_nothing_was_sent(settings):
    with socket_closed() as port:
        url = f"http://127.0.0.1:{port}/hooks/a"
        with pytest.raises(Unavailable, match="nothing was sent"):
            await deliver({**settings, "url": url}, event(id="evt-13"))


async def test_a_400_is_refused_input(receiver, settings):
    receiver.answer(PATHS[0], 422, body='{"error": "missing field name"}')
    with pytest.raises(InvalidInput, match="missing field name"):
        await deliver(settings, event(id="evt-14"))


async def test_a_redirect_is_not_followed(receiver, settings):
    target = receiver.url(PATHS[1])
    receiver.answer(PATHS[0], 307, headers={"Location": target})
    with pytest.raises(AuthError, match="redirects are not followed"):
        await deliver(settings, event(id="evt-15"))
    assert receiver.on(PATHS[1]) == []


@pytest.mark.parametrize(
    ("preset", "status", "hint"),
    [
        ("n8n", 404, "activate the workflow"),
        ("n8n", 403, "Header Auth"),
        (None, 404, "check the url key"),
        (None, 401, "check the headers key"),
    ],
)
async def test_refusals_say_what_to_do_on_the_platform(receiver, settings, preset, status, hint):
    receiver.answer(PATHS[0], status)
    with pytest.raises(AuthError, match=hint):
        await deliver({**settings, "preset": preset}, event(id="evt-16"))


def test_the_make_preset_hints_at_its_api_key_header():
    from aicmo_gateway_webhooks.presets import PRESETS

    assert "x-make-apikey" in PRESETS["make"].auth_hint


async def test_an_endpoint_built_directly_takes_a_resolver_and_no_network(receiver, resolver_for):
    # the receiver's address comes from the resolver: the name is never looked up elsewhere
    port = int(receiver.url().split(":")[2].split("/")[0])
    resolver = resolver_for(["127.0.0.1"])
    settings = WebhookSettings(
        url=f"http://receiver.test:{port}/hooks/a", secret=SECRET, allow_private=True
    )
    endpoint = WebhookEndpoint(settings, resolver=resolver)
    try:
        await endpoint.dispatch(event(id="evt-17"))
    finally:
        await endpoint.aclose()
    assert resolver.lookups == [("receiver.test", port)]
    (got,) = receiver.requests
    assert got.verified and got.headers["host"] == f"receiver.test:{port}"


class socket_closed:
    """A local port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


async def test_the_readmes_verification_snippet_accepts_a_delivery_and_refuses_a_forgery(
    receiver, settings
):
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```python\n")[1:]
    (snippet,) = [b.split("```")[0] for b in blocks if "def verify(secret" in b]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # the README's own code
    await deliver(settings, event(id="evt-18"))
    (got,) = receiver.requests
    assert namespace["verify"](SECRET, got.body, got.headers)
    assert not namespace["verify"](SECRET, got.body + b" ", got.headers)
