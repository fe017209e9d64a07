"""The SSRF guard, on (the default) in every test here.

Nothing here touches the network or the system's DNS: names resolve through a scripted
resolver, and the connection is made by an httpx mock transport that records where it was
asked to connect (the URL's host is the address; the ``Host`` header and the TLS name are the
endpoint's name).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aicmo_gateway_webhooks.endpoint import WebhookEndpoint
from aicmo_gateway_webhooks.guard import METADATA_ADDRESSES, blocked_reason
from aicmo_gateway_webhooks.settings import WebhookSettings

from aicmo_gateway import AuthError, Unavailable
from aicmo_gateway.ports import WebhookEvent

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PUBLIC = "93.184.216.34"


class Recorder:
    """A transport that answers 200 and records every request it was asked to send."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status, self.headers = status, headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, headers=self.headers)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def endpoint(url: str, recorder: Recorder, resolver: Any = None, **keys: Any) -> WebhookEndpoint:
    settings = WebhookSettings(url=url, secret=SECRET, **keys)
    return WebhookEndpoint(settings, resolver=resolver, transport=recorder.transport)


async def dispatch(target: WebhookEndpoint, key: str = "evt-1") -> Any:
    try:
        return await target.dispatch(WebhookEvent(type="lead.replied", id=key))
    finally:
        await target.aclose()


BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.45.6.7", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("192.168.0.1", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.170.2", "cloud metadata"),
    ("169.254.1.1", "link-local"),
    ("100.100.100.200", "cloud metadata"),
    ("192.0.0.192", "cloud metadata"),
    ("100.64.0.1", "shared"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "private"),
    ("[::1]", "loopback"),
    ("[::]", "unspecified"),
    ("[fe80::1]", "link-local"),
    ("[fc00::1]", "unique-local"),
    ("[fd12:3456::1]", "unique-local"),
    ("[fd00:ec2::254]", "cloud metadata"),
    ("[fec0::1]", "site-local"),
    ("[ff02::1]", "multicast"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("[::ffff:10.0.0.1]", "private"),
    ("[::ffff:169.254.169.254]", "cloud metadata"),
    ("[::127.0.0.1]", "loopback"),
    ("[64:ff9b::a9fe:a9fe]", "cloud metadata"),
    ("[2002:a00:1::1]", "private"),
    ("[2001:db8::1]", "private"),
]


@pytest.mark.parametrize(("host", "reason"), BLOCKED)
async def test_each_blocked_range_is_refused_and_nothing_is_sent(host: str, reason: str):
    recorder = Recorder()
    with pytest.raises(AuthError, match=f"{reason}.*SSRF guard.*allow_private = true"):
        await dispatch(endpoint(f"https://{host}/hook", recorder))
    assert recorder.requests == []


def test_every_metadata_address_is_blocked():
    assert all(blocked_reason(a) == "a cloud metadata address" for a in METADATA_ADDRESSES)


@pytest.mark.parametrize("address", [PUBLIC, "2606:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_pass(address: str):
    assert blocked_reason(address) is None


@pytest.mark.parametrize("answer", [["169.254.169.254"], ["10.0.0.8"], ["::1"]])
async def test_a_name_resolving_to_a_blocked_address_is_refused(resolver_for, answer):
    recorder, resolver = Recorder(), resolver_for(answer)
    with pytest.raises(AuthError, match=r"resolves to .*SSRF guard"):
        await dispatch(endpoint("https://hooks.example.com/hook", recorder, resolver))
    assert resolver.lookups == [("hooks.example.com", 443)]
    assert recorder.requests == []


async def test_an_answer_mixing_public_and_private_addresses_is_refused(resolver_for):
    recorder = Recorder()
    resolver = resolver_for([PUBLIC, "192.168.1.20"])
    with pytest.raises(AuthError, match=r"192\.168\.1\.20, a private address"):
        await dispatch(endpoint("https://hooks.example.com/hook", recorder, resolver))
    assert recorder.requests == []


async def test_the_connection_goes_to_the_resolved_address_with_the_name_kept(resolver_for):
    recorder, resolver = Recorder(), resolver_for([PUBLIC])
    await dispatch(endpoint("https://hooks.example.com:8443/hook?x=1", recorder, resolver))
    (sent,) = recorder.requests
    assert sent.url.host == PUBLIC and sent.url.port == 8443
    assert sent.url.raw_path == b"/hook?x=1"
    assert sent.headers["host"] == "hooks.example.com:8443"
    assert sent.extensions["sni_hostname"] == "hooks.example.com"


async def test_dns_rebinding_finds_one_lookup_and_the_first_answer(resolver_for):
    # the attacker's DNS answers a public address first, then loopback: a client that looked
    # the name up again to connect would reach 127.0.0.1
    recorder, resolver = Recorder(), resolver_for([PUBLIC], ["127.0.0.1"])
    target = endpoint("http://rebind.example.net/hook", recorder, resolver)
    await target.dispatch(WebhookEvent(type="lead.replied", id="evt-1"))
    assert resolver.lookups == [("rebind.example.net", 80)]
    assert [r.url.host for r in recorder.requests] == [PUBLIC]
    # the next delivery looks the name up afresh, once, and is refused on the new answer
    with pytest.raises(AuthError, match=r"127\.0\.0\.1, a loopback address"):
        await dispatch(target, "evt-2")
    assert len(resolver.lookups) == 2 and len(recorder.requests) == 1


async def test_an_ipv6_answer_is_connected_to_in_brackets(resolver_for):
    recorder, resolver = Recorder(), resolver_for(["2606:4700::1111"])
    await dispatch(endpoint("https://hooks.example.com/hook", recorder, resolver))
    (sent,) = recorder.requests
    assert sent.url.host == "2606:4700::1111"
    assert sent.headers["host"] == "hooks.example.com"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_to_the_metadata_service_is_not_followed(resolver_for, status):
    location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    recorder = Recorder(status, {"Location": location})
    with pytest.raises(AuthError, match="redirects are not followed"):
        await dispatch(endpoint("https://hooks.example.com/hook", recorder, resolver_for([PUBLIC])))
    assert len(recorder.requests) == 1


async def test_a_name_that_does_not_resolve_is_unavailable(resolver_for):
    recorder = Recorder()
    resolver = resolver_for(OSError(-2, "Name or service not known"))
    with pytest.raises(Unavailable, match=r"does not resolve.*nothing was sent"):
        await dispatch(endpoint("https://nowhere.example.com/hook", recorder, resolver))
    assert recorder.requests == []


async def test_check_applies_the_guard_without_sending(resolver_for):
    recorder = Recorder()
    good = endpoint("https://hooks.example.com/hook", recorder, resolver_for([PUBLIC]))
    await good.check()
    bad = endpoint("https://hooks.example.com/hook", recorder, resolver_for(["10.0.0.1"]))
    with pytest.raises(AuthError, match="private"):
        await bad.check()
    assert recorder.requests == []


async def test_allow_private_lets_an_internal_endpoint_through(resolver_for):
    recorder = Recorder()
    target = endpoint(
        "http://n8n.internal:5678/webhook/x",
        recorder,
        resolver_for(["10.0.0.5"]),
        allow_private=True,
    )
    await dispatch(target)
    assert [r.url.host for r in recorder.requests] == ["10.0.0.5"]
