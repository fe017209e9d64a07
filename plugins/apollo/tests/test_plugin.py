"""Discovery, the plugin's contract and traits, its settings and ``check()``.

``check()`` follows the health call Apollo's integrations use (``GET /api/v1/auth/health``:
``{"healthy": true, "is_logged_in": true}``, no credits) and docs.apollo.io/reference/
status-codes for a refused key.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from aicmo_gateway_apollo import plugin
from aicmo_gateway_apollo.enricher import ApolloEnricher
from aicmo_gateway_apollo.plugin import apollo_enricher
from pytest_httpserver import HTTPServer

from aicmo_gateway import AuthError, ConfigError, Gateway, Quota
from aicmo_gateway.plugins import PluginStatus, Registry


def test_discovery_finds_an_active_apollo_type_for_lead_enrichment():
    registry = Registry.discover(env={})
    apollo = registry.get("lead_enrichment", "apollo")
    assert apollo.distribution == "aicmo-gateway-apollo"
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-apollo"]
    assert info.status is PluginStatus.ACTIVE


def test_the_type_declares_its_batch_size_limits_and_check():
    registry = Registry.from_plugins({"aicmo-gateway-apollo": plugin}, strict=True)
    apollo = registry.get("lead_enrichment", "apollo")
    assert apollo.batch_size == 10
    assert apollo.quotas == (Quota(limit=1000, period="minute"),)
    assert apollo.has_check is True
    assert apollo.traits["idempotency"] == "none"


def test_the_free_plan_reports_apollos_free_limits(settings_for):
    enricher = apollo_enricher(**settings_for(plan="free"))
    assert enricher.quotas == (
        Quota(limit=50, period="minute"),
        Quota(limit=200, period="hour"),
        Quota(limit=600, period="day"),
    )


def test_importing_the_plugin_and_calling_its_hook_does_not_import_httpx():
    code = (
        "import sys, aicmo_gateway_apollo.plugin as p; p.aicmo_lead_enrichers(); "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_building_an_enricher_does_not_import_httpx():
    code = (
        "import sys; from aicmo_gateway_apollo.plugin import apollo_enricher; "
        "apollo_enricher(api_key='k-123456'); print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def gateway(**provider: object) -> Gateway:
    registry = Registry.from_plugins({"aicmo-gateway-apollo": plugin}, strict=True)
    return Gateway.from_config(
        {
            "capabilities": {"lead_enrichment": {"providers": ["apollo"]}},
            "providers": {"apollo": {"type": "apollo", "api_key": "${KEY}", **provider}},
        },
        registry=registry,
        env={"KEY": "apollo-test-key-Zq8Xw3"},
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"reveal_phone": True}, "reveal_phone = true needs webhook_url"),
        ({"webhook_url": "https://hooks.example.com/a"}, "remove webhook_url"),
        ({"reveal_phone": True, "webhook_url": "http://hooks.example.com"}, "https"),
        ({"base_url": "api.apollo.io"}, "base_url"),
        ({"base_url": "https://user:pw@api.apollo.io"}, "credentials"),
        ({"plan": "gold"}, "'paid'"),
        ({"timeout": 0}, "timeout"),
        ({"api_kee": "x"}, "did you mean 'api_key'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key_and_fix(settings, message):
    with pytest.raises(ConfigError) as caught:
        gateway(**settings)
    assert message in str(caught.value)
    assert "apollo-test-key-Zq8Xw3" not in str(caught.value)


async def test_check_passes_with_a_recognised_key_and_spends_nothing(
    httpserver: HTTPServer, make_enricher, api_key
):
    httpserver.expect_request(
        "/api/v1/auth/health", method="GET", headers={"x-api-key": api_key}
    ).respond_with_json({"healthy": True, "is_logged_in": True})
    enricher: ApolloEnricher = make_enricher()
    await enricher.check()
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, {"healthy": True, "is_logged_in": False}), (401, {"error": "Invalid API key"})],
)
async def test_check_fails_for_a_key_apollo_does_not_recognise(
    httpserver: HTTPServer, make_enricher, status, body
):
    httpserver.expect_request("/api/v1/auth/health").respond_with_json(body, status=status)
    with pytest.raises(AuthError, match="Settings > Integrations > API"):
        await make_enricher().check()
