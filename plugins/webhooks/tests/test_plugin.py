"""Discovery and the plugin contract: the type, its traits, cheap import, settings, reprs."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
from aicmo_gateway_webhooks.endpoint import WebhookEndpoint
from aicmo_gateway_webhooks.plugin import webhook_endpoint
from aicmo_gateway_webhooks.settings import WebhookSettings
from aicmo_gateway_webhooks.signing import decode_secret, sign, webhook_id
from standardwebhooks import Webhook

from aicmo_gateway import Idempotency, Secret
from aicmo_gateway.plugins.known import IN_REPOSITORY, KNOWN_PROVIDER_TYPES
from aicmo_gateway.plugins.registry import PluginStatus, Registry

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "https://hooks.zapier.com/hooks/catch/123456/Zt0kEnPathPart/"


def test_discovery_finds_an_active_webhook_type_for_webhook_dispatch():
    registry = Registry.discover(env={})
    webhook = registry.get("webhook_dispatch", "webhook")
    assert webhook.distribution == "aicmo-gateway-webhooks"
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-webhooks"]
    assert info.status is PluginStatus.ACTIVE


def test_the_type_declares_that_retries_are_deduplicated_by_webhook_id():
    webhook = Registry.discover(env={}).get("webhook_dispatch", "webhook")
    assert webhook.idempotency is Idempotency.KEY_HEADER
    assert webhook.has_check is True


def test_the_core_knows_where_the_distribution_lives():
    assert IN_REPOSITORY["aicmo-gateway-webhooks"] == "plugins/webhooks"
    assert KNOWN_PROVIDER_TYPES["webhook"] == ("aicmo-gateway-webhooks", ("webhook_dispatch",))


def test_importing_the_plugin_and_calling_its_hook_does_not_import_httpx():
    code = (
        "import sys, aicmo_gateway_webhooks.plugin as p; p.aicmo_webhook_dispatchers(); "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the secret ------------------------------------------------------------------------------


def test_a_whsec_secret_signs_what_the_reference_library_computes():
    body = b'{"data":{},"timestamp":"2026-11-30T07:00:00+00:00","type":"lead.replied"}'
    ours = sign(decode_secret(SECRET), "evt-1", 1_795_000_000, body)
    from datetime import UTC, datetime

    theirs = Webhook(SECRET).sign(
        "evt-1", datetime.fromtimestamp(1_795_000_000, UTC), body.decode()
    )
    assert ours == theirs


def test_an_unpadded_secret_is_accepted():
    raw = bytes(range(25))
    padded = "whsec_" + base64.b64encode(raw).decode()
    assert padded.endswith("=")
    assert decode_secret(padded.rstrip("=")) == raw == decode_secret(padded)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "secret: is empty"),
        ("correct horse battery staple", "whsec_"),
        ("whsec_not*base64!", "not base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "5 bytes"),
        ("whsec_" + base64.b64encode(bytes(65)).decode(), "65 bytes"),
    ],
)
def test_secrets_not_in_the_standard_form_are_refused_with_how_to_make_one(secret, message):
    with pytest.raises(ValueError, match=message) as caught:
        webhook_endpoint(url=URL, secret=secret)
    assert "secrets.token_bytes(32)" in str(caught.value)
    if secret:
        assert secret not in str(caught.value)


def test_ids_are_sent_as_is_or_as_a_stable_digest():
    assert webhook_id("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W") == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert webhook_id("x" * 257) == webhook_id("x" * 257) != "x" * 257
    assert webhook_id("a b").startswith("msg_")


# -- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"url": "ftp://hooks.example.com/x"}, "url: expected an http"),
        ({"url": "hooks.example.com/x"}, "url: expected an http"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "url: the URL carries credentials"),
        ({"url": "https://hooks.example.com/x#frag"}, "url: remove the fragment"),
        ({"url": "https://hooks.example.com:99999/x"}, "url: not a valid URL"),
        ({"url": "https://hooks.example.com/a b"}, "url: the URL contains spaces"),
        ({"preset": "make"}, r"url: 'https://hooks.zapier.com' is not a make webhook URL"),
        ({"preset": "ifttt"}, "preset: 'ifttt' is not known; use one of: make, zapier, n8n"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"allow_private": "yes"}, "allow_private: 'yes' must be true or false"),
        ({"headers": ["x"]}, "headers: expected a table"),
        ({"headers": {"Bad Name": "x"}}, "headers: 'Bad Name' is not a header name"),
        ({"headers": {"Content-Type": "text/plain"}}, "set by the plugin"),
        ({"headers": {"Webhook-Signature": "v1,x"}}, "set by the plugin"),
        ({"headers": {"Host": "evil.example"}}, "set by the plugin"),
        ({"headers": {"X-A": "1", "x-a": "2"}}, "appears twice"),
        ({"headers": {"X-A": "a\r\nX-Injected: 1"}}, "line break"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(keys, message):
    with pytest.raises(ValueError, match=message):
        webhook_endpoint(**{"url": URL, "secret": SECRET, **keys})


@pytest.mark.parametrize(
    ("preset", "url"),
    [
        ("make", "https://hook.eu1.make.com/abcdefghijklmnop"),
        ("make", "https://hook.us2.make.com/abcdefghijklmnop"),
        ("make", "https://hook.integromat.com/abcdefghijklmnop"),
        ("zapier", URL),
        ("n8n", "https://n8n.example.org/webhook/lead-replied"),
        ("n8n", "https://n8n.example.org/webhook-test/lead-replied"),
        (None, "http://hooks.example.com/x?team=7"),
    ],
)
def test_each_preset_accepts_its_platforms_urls(preset, url):
    settings = WebhookSettings(url=url, secret=SECRET, preset=preset)
    assert settings.preset == preset and settings.allow_private is False


async def test_an_internationalised_host_is_resolved_and_named_in_its_ascii_form(resolver_for):
    import httpx

    from aicmo_gateway.ports import WebhookEvent

    sent: list[httpx.Request] = []
    resolver = resolver_for(["93.184.216.34"])
    settings = WebhookSettings(url="https://hööks.example/x", secret=SECRET)
    endpoint = WebhookEndpoint(
        settings,
        resolver=resolver,
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204)),
    )
    await endpoint.dispatch(WebhookEvent(type="lead.replied", id="evt-1"))
    await endpoint.aclose()
    ascii_name = "hööks.example".encode("idna").decode()
    assert ascii_name.startswith("xn--")
    assert resolver.lookups == [(ascii_name, 443)]
    assert sent[0].headers["host"] == ascii_name
    assert sent[0].extensions["sni_hostname"] == ascii_name


def test_no_secret_header_value_or_url_path_shows_in_reprs():
    endpoint = webhook_endpoint(
        url=URL, secret=SECRET, preset="zapier", headers={"X-Api-Key": "k3y-S3cret-value"}
    )
    assert isinstance(endpoint, WebhookEndpoint)
    settings = endpoint.settings
    assert isinstance(settings.secret, Secret)
    assert all(isinstance(v, Secret) for v in settings.headers.values())
    for text in (repr(endpoint), repr(settings), str(settings), repr(endpoint.http)):
        for hidden in (SECRET, "MfKQ9r8G", "k3y-S3cret-value", "Zt0kEnPathPart"):
            assert hidden not in text
    assert "hooks.zapier.com" in repr(settings)
    assert endpoint.http.scrub(f"POST {URL}") == "POST ********"
