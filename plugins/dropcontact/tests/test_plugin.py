"""Discovery, the plugin's contract and traits, its settings and ``check()``.

``check()`` follows developer.dropcontact.com/en/reference/get-credits
(``GET /v1/account/credits``, the balance in ``credits``; it spends nothing) and en/errors.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from aicmo_gateway_dropcontact import plugin
from pytest_httpserver import HTTPServer

from aicmo_gateway import (
    AuthError,
    ConfigError,
    Gateway,
    QuotaExhausted,
    RateLimit,
)
from aicmo_gateway.plugins.registry import PluginStatus, Registry


def test_discovery_finds_the_type_for_verification_and_enrichment():
    registry = Registry.discover(env={})
    for capability in ("email_verification", "lead_enrichment"):
        found = registry.get(capability, "dropcontact")
        assert found.distribution == "aicmo-gateway-dropcontact"
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-dropcontact"]
    assert info.status is PluginStatus.ACTIVE


def test_the_type_declares_its_batch_size_rate_and_check():
    registry = Registry.from_plugins({"aicmo-gateway-dropcontact": plugin}, strict=True)
    for capability in ("email_verification", "lead_enrichment"):
        found = registry.get(capability, "dropcontact")
        assert found.batch_size == 250
        assert found.rate_limit == RateLimit(per_second=30, burst=30)
        assert found.has_check is True


def test_importing_the_plugin_and_building_a_provider_does_not_import_httpx():
    code = (
        "import sys, aicmo_gateway_dropcontact.plugin as p; p.aicmo_email_verifiers(); "
        "p.aicmo_lead_enrichers(); p.dropcontact_provider(api_key='k-123456'); "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def build(**provider: object) -> Gateway:
    registry = Registry.from_plugins({"aicmo-gateway-dropcontact": plugin}, strict=True)
    return Gateway.from_config(
        {
            "capabilities": {"email_verification": {"providers": ["dc"]}},
            "providers": {"dc": {"type": "dropcontact", "api_key": "${KEY}", **provider}},
        },
        registry=registry,
        env={"KEY": "dropcontact-test-key-Yp4Kw9"},
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_timeout": -1}, "poll_timeout"),
        ({"poll_interval": 60, "poll_timeout": 30}, "longer than poll_timeout"),
        ({"language": "de"}, "'en' or 'fr'"),
        ({"base_url": "ftp://api.dropcontact.com"}, "base_url"),
        ({"api_key": ""}, "api_key: is empty"),
        ({"poll_intervall": 5}, "did you mean 'poll_interval'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key_and_fix(settings, message):
    with pytest.raises(ConfigError) as caught:
        build(**settings)
    assert message in str(caught.value)
    assert "dropcontact-test-key-Yp4Kw9" not in str(caught.value)


def test_the_settings_default_to_the_documented_api_and_polling():
    from aicmo_gateway_dropcontact.settings import DropcontactSettings

    settings = DropcontactSettings(api_key="k-123456")
    assert settings.base_url == "https://api.dropcontact.com"
    assert (settings.poll_interval, settings.poll_timeout) == (5.0, 180.0)
    assert "k-123456" not in repr(settings)


async def test_check_reads_the_balance_and_spends_nothing(
    httpserver: HTTPServer, fake, make_provider, api_key
):
    await make_provider().check()
    (request,) = [entry[0] for entry in httpserver.log]
    assert (request.method, request.path) == ("GET", "/v1/account/credits")
    assert request.headers["X-Access-Token"] == api_key
    assert fake.submissions == []


async def test_check_fails_without_credits(fake, make_provider):
    fake.credits_left = 0
    with pytest.raises(QuotaExhausted, match="no credits left"):
        await make_provider().check()


@pytest.mark.parametrize(
    ("status", "body"), [(401, {"detail": "Invalid token"}), (200, {"detail": "?"})]
)
async def test_check_fails_for_a_refused_key(httpserver: HTTPServer, make_provider, status, body):
    httpserver.expect_request("/v1/account/credits").respond_with_json(body, status=status)
    with pytest.raises(AuthError):
        await make_provider().check()


def _warnings(capability: dict[str, object], provider: dict[str, object]) -> list[str]:
    from aicmo_gateway.config.load import load_config

    registry = Registry.from_plugins({"aicmo-gateway-dropcontact": plugin}, strict=True)
    config = load_config(
        {
            "capabilities": {"lead_enrichment": {"providers": ["dc"], **capability}},
            "providers": {"dc": {"type": "dropcontact", "api_key": "${KEY}", **provider}},
        },
        registry=registry,
        env={"KEY": "dropcontact-test-key-Yp4Kw9"},
    )
    return list(config.warnings)


def test_the_default_attempt_timeout_loads_with_a_warning_naming_the_value_to_set():
    (warning,) = _warnings({}, {})
    assert "needs at least 210s per attempt" in warning  # poll_timeout 180 s + timeout 30 s
    assert 'set attempt_timeout = "210s" and deadline = "210s" (or more)' in warning


def test_the_minimum_follows_the_instances_poll_timeout():
    (warning,) = _warnings({"attempt_timeout": "1m", "deadline": "5m"}, {"poll_timeout": 100})
    assert "needs at least 130s" in warning and "attempt_timeout = 1m cuts" in warning
    assert _warnings({"attempt_timeout": "130s", "deadline": "5m"}, {"poll_timeout": 100}) == []


def test_the_readme_example_timeouts_load_without_a_warning():
    assert _warnings({"attempt_timeout": "4m", "deadline": "5m"}, {"poll_timeout": 180}) == []
