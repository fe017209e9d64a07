"""Discovery and the plugin's contract: the types it registers, cheap import, traits."""

from __future__ import annotations

import subprocess
import sys

from aicmo_gateway_smtp.plugin import gmail_sender, smtp_sender
from aicmo_gateway_smtp.sender import SmtpSender

from aicmo_gateway import Idempotency, Quota
from aicmo_gateway.plugins.registry import PluginStatus, Registry


def test_discovery_finds_an_active_smtp_type_for_email_sending():
    registry = Registry.discover(env={})
    smtp = registry.get("email_sending", "smtp")
    assert smtp.distribution == "aicmo-gateway-smtp"
    assert smtp.idempotency is Idempotency.MESSAGE_ID
    assert smtp.has_check is True
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-smtp"]
    assert info.status is PluginStatus.ACTIVE
    assert {pt.name for pt in info.provider_types} == {"smtp", "gmail"}


def test_the_gmail_type_declares_the_consumer_gmail_quota():
    gmail = Registry.discover(env={}).get("email_sending", "gmail")
    assert gmail.quotas == (Quota(limit=500, period="day"),)


def test_importing_the_plugin_and_calling_its_hook_does_not_import_the_smtp_client():
    code = (
        "import sys, aicmo_gateway_smtp.plugin as p; p.aicmo_email_senders(); "
        "print('aiosmtplib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_smtp_factory_builds_a_sender_with_the_presets_quotas():
    sender = smtp_sender(preset="microsoft365", username="a@example.com", password="pw-123456")
    assert isinstance(sender, SmtpSender)
    assert sender.server == "smtp.office365.com:587"
    assert sender.quotas == (Quota(limit=10000, period="day"), Quota(limit=30, period="minute"))


def test_the_gmail_factory_uses_the_gmail_or_workspace_preset():
    consumer = gmail_sender(username="a@gmail.com", password="abcd efgh ijkl mnop")
    workspace = gmail_sender(username="a@example.com", password="pw-123456", workspace=True)
    assert consumer.server == workspace.server == "smtp.gmail.com:587"
    assert consumer.quotas == (Quota(limit=500, period="day"),)
    assert workspace.quotas == (Quota(limit=2000, period="day"),)
