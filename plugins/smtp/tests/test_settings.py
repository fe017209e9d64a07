"""Settings: presets fill the defaults, explicit keys win, bad values name their key."""

from __future__ import annotations

import pytest
from aicmo_gateway_smtp.presets import PRESETS
from aicmo_gateway_smtp.settings import GmailSettings, SmtpSettings

from aicmo_gateway import Quota, Secret

LOGIN = {"username": "sales@example.com", "password": "app-password"}


@pytest.mark.parametrize(
    ("preset", "server"),
    [
        ("gmail", ("smtp.gmail.com", 587, "starttls")),
        ("google-workspace", ("smtp.gmail.com", 587, "starttls")),
        ("google-workspace-relay", ("smtp-relay.gmail.com", 587, "starttls")),
        ("microsoft365", ("smtp.office365.com", 587, "starttls")),
    ],
)
def test_a_preset_fills_host_port_and_security(preset, server):
    assert SmtpSettings(preset=preset, **LOGIN).server == server


def test_the_relay_preset_needs_a_host_and_uses_port_25_with_opportunistic_starttls():
    assert SmtpSettings(preset="relay", host="relay.example.net").server == (
        "relay.example.net",
        25,
        "opportunistic",
    )
    with pytest.raises(ValueError, match=r"^host: the 'relay' preset needs host"):
        SmtpSettings(preset="relay")


def test_explicit_keys_override_the_preset():
    settings = SmtpSettings(preset="gmail", security="tls", **LOGIN)
    assert settings.server == ("smtp.gmail.com", 465, "tls")
    assert SmtpSettings(preset="gmail", port=2525, **LOGIN).server[1] == 2525


def test_without_a_preset_the_port_follows_the_security():
    assert SmtpSettings(host="mx.example.com").server == ("mx.example.com", 587, "starttls")
    assert SmtpSettings(host="mx.example.com", security="tls").server[1] == 465
    assert SmtpSettings(host="mx.example.com", security="none").server[1] == 25


def test_the_presets_quotas_and_the_daily_quota_override():
    assert SmtpSettings(preset="gmail", **LOGIN).quotas == (Quota(limit=500, period="day"),)
    assert SmtpSettings(preset="google-workspace", **LOGIN).quotas == (
        Quota(limit=2000, period="day"),
    )
    overridden = SmtpSettings(preset="microsoft365", daily_quota=100, **LOGIN)
    assert overridden.quotas == (Quota(limit=100, period="day"), Quota(limit=30, period="minute"))
    assert SmtpSettings(host="mx.example.com").quotas == ()


def test_the_username_is_the_default_sender_when_it_is_an_address():
    assert SmtpSettings(preset="gmail", **LOGIN).sender_address == "sales@example.com"
    assert SmtpSettings(host="h", username="apikey", password="x").sender_address is None
    explicit = SmtpSettings(host="h", default_sender="News <news@example.com>")
    assert explicit.sender_address == "News <news@example.com>"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, r"^host: no SMTP server given"),
        ({"preset": "gmial", **LOGIN}, r"^preset: 'gmial' is not known \(did you mean 'gmail'\?\)"),
        ({"host": "h", "security": "ssl"}, r"^security: 'ssl' is not known"),
        ({"host": "h", "password": "x"}, r"^username: a password is set but no username"),
        ({"host": "h", "username": "u"}, r"^password: username 'u' is set but no password"),
        ({"preset": "gmail"}, r"^username: the 'gmail' preset needs username"),
        ({"host": "h", "port": 70000}, r"^port: 70000 is not a TCP port"),
        ({"host": "h", "pool_size": 0}, r"^pool_size: 0 must be at least 1"),
        ({"host": "h", "timeout": 0}, r"^timeout: 0 must be a number of seconds above 0"),
        ({"host": "h", "max_idle": -1}, r"^max_idle: -1 must be at least 0"),
        (
            {"host": "h", "ca_file": "/nonexistent/ca.pem"},
            r"^ca_file: '/nonexistent/ca.pem' is not",
        ),
        ({"host": "h", "default_sender": "nobody"}, r"^default_sender: 'nobody' is not an email"),
        ({"host": "h", "local_hostname": "two words"}, r"^local_hostname: 'two words' is not"),
        ({"host": " "}, r"^host: is empty"),
    ],
)
def test_invalid_settings_name_the_key(values, message):
    with pytest.raises(ValueError, match=message):
        SmtpSettings(**values)


def test_the_password_is_a_secret_and_never_printed():
    settings = SmtpSettings(host="h", username="u", password="hunter2-secret")
    assert isinstance(settings.password, Secret)
    assert settings.password.reveal() == "hunter2-secret"
    assert "hunter2-secret" not in repr(settings)
    gmail = GmailSettings(username="a@gmail.com", password="hunter2-secret")
    assert "hunter2-secret" not in repr(gmail) + repr(gmail.to_smtp())


def test_every_preset_has_a_summary_for_the_readme():
    assert all(preset.summary for preset in PRESETS.values())


def test_the_sender_domain_and_dkim_selector_for_doctor_are_dns_names():
    settings = SmtpSettings(
        preset="microsoft365", **LOGIN, sender_domain="example.com", dkim_selector="selector2"
    )
    assert (settings.sender_domain, settings.dkim_selector) == ("example.com", "selector2")
    assert GmailSettings(**LOGIN, dkim_selector="google").to_smtp().dkim_selector == "google"
    with pytest.raises(ValueError, match=r"sender_domain: 'https://example\.com' is not a DNS"):
        SmtpSettings(preset="gmail", **LOGIN, sender_domain="https://example.com")
    with pytest.raises(ValueError, match="dkim_selector: 'a b' is not a DNS name"):
        SmtpSettings(preset="gmail", **LOGIN, dkim_selector="a b")
