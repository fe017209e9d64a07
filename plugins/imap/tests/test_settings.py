"""The ``imap`` settings: presets, defaults, and refused combinations named by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aicmo_gateway_imap import PRESETS, ImapSettings

from aicmo_gateway import Secret

PASSWORD = "hunter2-app-password"


def settings(**changes: Any) -> ImapSettings:
    values: dict[str, Any] = {"host": "imap.example.com", "username": "a@example.com"}
    values["password"] = PASSWORD
    values.update(changes)
    return ImapSettings(**values)


def test_the_defaults_are_tls_on_993_reading_inbox_in_batches_of_100():
    s = settings()
    assert (s.host, s.port, s.security, s.mailbox) == ("imap.example.com", 993, "tls", "INBOX")
    assert s.verify_certificates is True and s.ca_file is None
    assert (s.batch_size, s.idle, s.idle_rearm_seconds) == (100, False, 29 * 60)
    assert (s.timeout, s.poll_interval, s.start) == (30.0, 60.0, "all")


@pytest.mark.parametrize(
    ("preset", "host"), [("gmail", "imap.gmail.com"), ("microsoft365", "outlook.office365.com")]
)
def test_a_preset_stands_for_its_host_and_port(preset: str, host: str):
    s = ImapSettings(preset=preset, username="a@example.com", password=PASSWORD)
    assert (s.host, s.port, s.security) == (host, 993, "tls")
    assert PRESETS[preset] == (host, 993)


@pytest.mark.parametrize(("security", "port"), [("starttls", 143), ("none", 143), ("tls", 993)])
def test_the_port_defaults_by_security(security: str, port: int):
    assert settings(security=security).port == port


def test_inbox_is_matched_without_regard_to_case():
    assert settings(mailbox="inbox").mailbox == "INBOX"
    assert settings(mailbox="Replies").mailbox == "Replies"


def test_the_password_becomes_a_secret_that_never_prints():
    s = settings()
    assert isinstance(s.password, Secret) and s.password.reveal() == PASSWORD
    assert PASSWORD not in repr(s) and PASSWORD not in str(s)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"preset": "yahoo"}, "preset"),
        ({"preset": "gmail", "host": "imap.example.org"}, "host"),
        ({"host": None}, "host"),
        ({"host": "imaps://imap.example.com/"}, "host"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"security": "ssl"}, "security"),
        ({"security": "none", "ca_file": "/etc/ssl/ca.pem"}, "ca_file"),
        ({"security": "none", "verify_certificates": False}, "verify_certificates"),
        ({"ca_file": __file__, "verify_certificates": False}, "verify_certificates"),
        ({"ca_file": "/no/such/ca.pem"}, "ca_file"),
        ({"username": " "}, "username"),
        ({"password": ""}, "password"),
        ({"mailbox": ""}, "mailbox"),
        ({"mailbox": "INBOX\r\nA1 DELETE INBOX"}, "mailbox"),
        ({"timeout": 0}, "timeout"),
        ({"batch_size": 0}, "batch_size"),
        ({"idle_rearm_seconds": 30 * 60}, "idle_rearm_seconds"),
        ({"idle_rearm_seconds": -1}, "idle_rearm_seconds"),
        ({"poll_interval": float("nan")}, "poll_interval"),
        ({"start": "latest"}, "start"),
    ],
)
def test_a_bad_value_or_combination_is_a_value_error_naming_the_key(
    changes: dict[str, Any], key: str
):
    with pytest.raises(ValueError, match=rf"imap settings: {key}: ") as caught:
        settings(**changes)
    assert PASSWORD not in str(caught.value)


def test_a_preset_with_its_own_host_and_another_port_is_accepted():
    s = ImapSettings(
        preset="gmail", host="imap.gmail.com", port=1993, username="a@b.co", password="x"
    )
    assert (s.host, s.port) == ("imap.gmail.com", 1993)


def test_a_ca_file_that_exists_is_kept_as_a_path():
    assert settings(ca_file=__file__).ca_file == Path(__file__)


def test_a_password_that_is_not_text_is_a_type_error():
    with pytest.raises(TypeError, match="password"):
        settings(password=1234)


def test_an_unknown_key_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="hots"):
        settings(hots="imap.example.com")
