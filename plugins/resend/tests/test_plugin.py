"""Discovery and the plugin contract: the type it registers, its traits, cheap import, settings."""

from __future__ import annotations

import subprocess
import sys

import pytest
from aicmo_gateway_resend.plugin import resend_sender
from aicmo_gateway_resend.sender import ResendSender

from aicmo_gateway import Idempotency, Quota, RateLimit
from aicmo_gateway.plugins.registry import PluginStatus, Registry

KEY = "re_plugin_T3st_K3y_abcdef"


def test_discovery_finds_an_active_resend_type_for_email_sending():
    registry = Registry.discover(env={})
    resend = registry.get("email_sending", "resend")
    assert resend.distribution == "aicmo-gateway-resend"
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-resend"]
    assert info.status is PluginStatus.ACTIVE


def test_the_type_declares_a_real_idempotency_key_and_resends_documented_limits():
    resend = Registry.discover(env={}).get("email_sending", "resend")
    assert resend.idempotency is Idempotency.KEY_HEADER
    assert resend.rate_limit == RateLimit(per_second=5)
    assert resend.quotas == (Quota(limit=100, period="day"),)
    assert resend.has_check is True
    assert resend.batch_size is None  # the email port has no batch method


def test_importing_the_plugin_and_calling_its_hook_does_not_import_httpx():
    code = (
        "import sys, aicmo_gateway_resend.plugin as p; p.aicmo_email_senders(); "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_paid_plan_has_no_daily_quota():
    assert resend_sender(api_key=KEY).quotas == (Quota(limit=100, period="day"),)
    assert resend_sender(api_key=KEY, plan="paid").quotas == ()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_key": " "}, "api_key: is empty"),
        ({"api_key": KEY, "base_url": "ftp://api.resend.com"}, "base_url"),
        ({"api_key": KEY, "base_url": "https://user:pw@api.resend.com"}, "credentials"),
        ({"api_key": KEY, "timeout": 0}, "timeout"),
        ({"api_key": KEY, "default_sender": "nobody"}, "default_sender"),
        ({"api_key": KEY, "plan": "pro"}, "plan: 'pro' is not known"),
        ({"api_key": KEY, "tags": {"campaign": "q4 launch"}}, "tags: 'q4 launch'"),
        ({"api_key": KEY, "sender_domain": "@example.com"}, "sender_domain: .* not a DNS name"),
        ({"api_key": KEY, "dkim_selector": "-x"}, "dkim_selector: .* not a DNS name"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(settings, message):
    with pytest.raises(ValueError, match=message):
        resend_sender(**settings)


def test_the_api_key_never_shows_in_reprs():
    sender = resend_sender(api_key=KEY, default_sender="sales@example.com")
    assert isinstance(sender, ResendSender)
    for text in (repr(sender), repr(sender.settings), str(sender.settings), repr(sender.http)):
        assert KEY not in text
