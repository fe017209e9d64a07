"""The plugin through the gateway: configuration, the chain's outcomes, retries' Message-IDs."""

from __future__ import annotations

from typing import Any

import pytest

from aicmo_gateway import ConfigError, Gateway, Status
from aicmo_gateway.ports import EmailMessage


def config(**provider: Any) -> dict[str, Any]:
    return {
        "capabilities": {"email_sending": {"providers": ["mail"]}},
        "providers": {"mail": {"type": "smtp", **provider}},
    }


def message(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": "ada@example.com",
        "sender": "Sales <sales@example.com>",
        "subject": "Offer",
        "text": "Hello Ada.",
    }
    fields.update(changes)
    return EmailMessage(**fields)


async def send_once(settings: dict[str, Any], msg: EmailMessage, key: str | None) -> Any:
    gateway = Gateway.from_config(config(**settings), env={})
    async with gateway:
        return await gateway.email_sending.send(msg, idempotency_key=key)


async def test_a_retry_with_the_same_idempotency_key_carries_the_same_message_id(
    smtp_server, settings_for
):
    server = smtp_server("starttls")
    settings = settings_for(server)
    first = await send_once(settings, message(), "campaign-7/lead-42")
    retry = await send_once(settings, message(), "campaign-7/lead-42")  # e.g. after a crash
    other = await send_once(settings, message(), "campaign-7/lead-43")
    assert [o.status for o in (first, retry, other)] == [Status.OK] * 3
    ids = [m.parsed()["Message-ID"] for m in server.messages]
    assert len(ids) == 3
    assert ids[0] == ids[1] == first.value.message_id == retry.value.message_id
    assert ids[2] != ids[0]
    assert ids[0].endswith("@example.com>")


async def test_a_connection_lost_after_the_content_makes_the_outcome_uncertain(
    smtp_server, settings_for
):
    server = smtp_server("starttls", drop_after_content=True)
    outcome = await send_once(settings_for(server), message(), None)
    assert outcome.status is Status.UNCERTAIN
    assert outcome.attempts[-1].error == "Ambiguous"


async def test_every_recipient_refused_makes_the_outcome_rejected(smtp_server, settings_for):
    server = smtp_server("starttls", reject=("nobody@example.com",))
    outcome = await send_once(settings_for(server), message(to="nobody@example.com"), None)
    assert outcome.status is Status.REJECTED


async def test_bad_credentials_fail_without_the_password_in_the_outcome(smtp_server, settings_for):
    server = smtp_server("starttls")
    outcome = await send_once(settings_for(server, password="wrong-password-123"), message(), None)
    assert outcome.status is Status.FAILED
    assert outcome.attempts[-1].error == "AuthError"
    assert "wrong-password-123" not in repr(outcome)


async def test_the_gateways_check_logs_in(smtp_server, settings_for):
    server = smtp_server("starttls")
    gateway = Gateway.from_config(config(**settings_for(server)), env={})
    async with gateway:
        (result,) = await gateway.check()
    assert result.ok, result.detail


def test_a_preset_needs_only_username_and_password():
    gateway = Gateway.from_config(
        config(preset="gmail", username="sales@example.com", password="app-password"), env={}
    )
    (slot,) = gateway.chains["email_sending"].slots
    assert slot.provider.server == "smtp.gmail.com:587"
    assert slot.provider.security == "starttls"


def test_an_unknown_preset_is_a_config_error_naming_the_key():
    with pytest.raises(
        ConfigError, match=r"providers\.mail.*preset: 'gmial'.*did you mean 'gmail'"
    ):
        Gateway.from_config(config(preset="gmial", username="a@example.com", password="x"), env={})


def test_a_missing_host_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"host: no SMTP server given"):
        Gateway.from_config(config(port=25), env={})


def test_a_password_without_username_is_a_config_error():
    with pytest.raises(ConfigError, match=r"username: a password is set but no username") as caught:
        Gateway.from_config(config(host="smtp.example.com", password="hunter2-secret"), env={})
    assert "hunter2-secret" not in str(caught.value)


def test_a_misspelt_key_is_a_config_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"pasword(.|\n)*did you mean 'password'"):
        Gateway.from_config(config(host="smtp.example.com", pasword="x"), env={})


SECRET = "SECRET-hunter2"


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"preset": "${VALUE}", "username": "a@example.com", "password": "x"}, "preset"),
        ({"host": "h", "security": "${VALUE}"}, "security"),
        ({"host": "h", "ca_file": "/nonexistent/${VALUE}.pem"}, "ca_file"),
        ({"host": "h", "username": "${VALUE}"}, "password"),
        ({"host": "h", "default_sender": "${VALUE}"}, "default_sender"),
        ({"host": "h", "local_hostname": "${VALUE} x"}, "local_hostname"),
        ({"host": "h", "port": "${VALUE}"}, "port"),
        ({"host": "h", "rate_limit": "${VALUE}"}, "rate_limit"),
        ({"host": "h", "daily_quota": "${VALUE}"}, "daily_quota"),
    ],
)
def test_a_refused_value_from_the_environment_is_shown_as_written(
    settings: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Gateway.from_config(config(**settings), env={"VALUE": SECRET})
    assert SECRET not in str(caught.value)
    [problem] = caught.value.problems
    assert problem.key == f"providers.mail.{key}"
    assert "${VALUE}" in problem.message


def test_a_port_from_the_environment_is_converted() -> None:
    gateway = Gateway.from_config(config(host="h", port="${PORT}"), env={"PORT": "2525"})
    assert gateway.chains["email_sending"].slots[0].provider.settings.port == 2525


def test_a_port_written_as_a_string_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        Gateway.from_config(config(host="h", port="587"), env={})
    assert caught.value.problems[0].fix == "write port = 587 without quotes"
