"""Each SMTP reply, at each step, maps to the error the chain expects."""

from __future__ import annotations

import ssl

import pytest
from aicmo_gateway_smtp.classify import (
    after_content,
    network_failure,
    recipients_refused,
    reply_error,
)

from aicmo_gateway.errors import (
    Ambiguous,
    AuthError,
    InvalidInput,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)

SERVER = "smtp.example.com:587"


@pytest.mark.parametrize("code", [421, 450, 451, 452])
@pytest.mark.parametrize("stage", ["greeting", "mail", "rcpt", "data", "content"])
def test_slow_down_replies_are_rate_limited_without_a_retry_after(code, stage):
    error = reply_error(code, "4.7.0 Try again later", stage=stage, server=SERVER)
    assert type(error) is RateLimited
    assert error.retry_after is None


def test_other_temporary_replies_are_unavailable():
    error = reply_error(454, "4.7.0 Temporary authentication failure", stage="auth", server=SERVER)
    assert type(error) is Unavailable


@pytest.mark.parametrize("code", [530, 534, 535, 538])
def test_login_refusals_are_auth_errors(code):
    error = reply_error(
        code, "5.7.8 Username and Password not accepted", stage="auth", server=SERVER
    )
    assert type(error) is AuthError
    assert "app password" in str(error)


def test_a_login_required_reply_to_mail_is_an_auth_error():
    error = reply_error(530, "5.7.0 Authentication Required", stage="mail", server=SERVER)
    assert type(error) is AuthError


def test_a_refused_sender_is_an_auth_error_naming_the_fix():
    error = reply_error(553, "5.7.1 Sender not owned by user", stage="mail", server=SERVER)
    assert type(error) is AuthError
    assert "default_sender" in str(error)


@pytest.mark.parametrize("code", [550, 552, 553, 554])
def test_content_rejections_after_the_data_are_invalid_input(code):
    error = reply_error(code, "5.7.1 Message rejected as spam", stage="content", server=SERVER)
    assert type(error) is InvalidInput


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (500, "Line too long (see RFC5321 4.5.3.1.6)"),
        (500, "5.5.2 Syntax error"),
        (501, "5.5.4 Invalid header"),
        (551, "5.6.0 Other or undefined media error"),
        (571, "5.3.4 Message too big for system"),
    ],
)
def test_replies_that_call_the_content_malformed_are_invalid_input(code, text):
    error = reply_error(code, text, stage="content", server=SERVER)
    assert type(error) is InvalidInput
    assert "malformed" in str(error)


def test_a_daily_sending_limit_is_quota_exhausted_not_a_rejection():
    error = reply_error(
        550, "5.4.5 Daily user sending limit exceeded.", stage="content", server=SERVER
    )
    assert type(error) is QuotaExhausted


def test_other_permanent_replies_are_unavailable():
    assert type(reply_error(500, "5.5.1 unrecognized", stage="data", server=SERVER)) is Unavailable
    assert type(reply_error(554, "no service", stage="greeting", server=SERVER)) is Unavailable


def test_every_recipient_refused_permanently_is_invalid_input_listing_them():
    error = recipients_refused(
        {"a@example.com": (550, "5.1.1 User unknown"), "b@example.com": (553, "5.1.3 Bad")},
        server=SERVER,
    )
    assert type(error) is InvalidInput
    assert "a@example.com: 550 5.1.1 User unknown" in str(error)
    assert "b@example.com: 553" in str(error)


def test_every_recipient_refused_by_relay_policy_is_an_auth_error():
    error = recipients_refused(
        {"a@example.net": (554, "5.7.1 <a@example.net>: Relay access denied")}, server=SERVER
    )
    assert type(error) is AuthError


def test_a_temporary_refusal_among_the_recipients_is_not_a_verdict_on_the_input():
    error = recipients_refused(
        {"a@example.com": (550, "5.1.1 unknown"), "b@example.com": (451, "4.3.0 greylisted")},
        server=SERVER,
    )
    assert type(error) is RateLimited


def test_a_network_failure_before_the_content_is_unavailable():
    error = network_failure(
        ConnectionRefusedError(111, "Connection refused"), stage="connect", server=SERVER
    )
    assert type(error) is Unavailable
    assert error.performed is False
    assert "nothing was sent" in str(error)


def test_an_untrusted_certificate_says_to_set_ca_file():
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    wrapper = ConnectionError("Error connecting")
    wrapper.__cause__ = cause
    error = network_failure(wrapper, stage="connect", server=SERVER)
    assert "ca_file" in str(error)


def test_a_failure_after_the_content_is_ambiguous():
    error = after_content(TimeoutError("Timed out waiting for server response"), server=SERVER)
    assert type(error) is Ambiguous
    assert error.performed is None
