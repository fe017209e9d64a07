"""The core's conformance suite for email senders, against the Resend contract fake.

The fake renders each accepted ``POST /emails`` body as the RFC 5322 message a recipient gets;
``fail_next`` answers the next request as resend.com/docs/api-reference/errors documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aicmo_gateway_resend.plugin import resend_sender

from aicmo_gateway.testing.conformance import EmailSenderConformance

from .conftest import FakeResend, error

FAILURES: dict[str, tuple[int, Any, dict[str, Any]]] = {
    "bad_credentials": (401, error(401, "missing_api_key", "Missing API key."), {}),
    "rate_limited": (
        429,
        error(429, "rate_limit_exceeded", "Too many requests."),
        {"headers": {"retry-after": "1"}},
    ),
    "quota_spent": (
        429,
        error(429, "daily_quota_exceeded", "You have reached your daily email sending quota."),
        {"headers": {"retry-after": "3600"}},
    ),
    "invalid_input": (422, error(422, "validation_error", "Invalid `to` field."), {}),
    "service_down": (503, error(503, "service_unavailable", "Try later"), {}),
    # processed, then answered past the sender's 1 s timeout
    "unknown_outcome": (200, {"id": "late"}, {"delay": 3.0, "process": True}),
}


class ScriptedResend:
    def __init__(self, fake: FakeResend) -> None:
        self.fake = fake

    def fail_next(self, kind: str) -> None:
        status, body, options = FAILURES[kind]
        self.fake.answer_next(status, body, **options)


class TestResendSenderConformance(EmailSenderConformance):
    plugin_module = "aicmo_gateway_resend.plugin"
    optional_dependencies = ("httpx",)

    @pytest.fixture
    def service(self, resend: FakeResend) -> ScriptedResend:
        return ScriptedResend(resend)

    @pytest.fixture
    def secrets(self, resend: FakeResend) -> list[str]:
        return [resend.full_key, resend.sending_key]

    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return resend_sender(**{**settings, "timeout": 1.0})

    @pytest.fixture
    def delivered(self, resend: FakeResend) -> Callable[[], list[bytes]]:
        return resend.delivered
