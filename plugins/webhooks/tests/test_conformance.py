"""The core's webhook-dispatch conformance suite, against the local receiver.

A receiving endpoint has no quota; ``fail_next`` scripts the other failures on it.
"""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_webhooks.plugin import webhook_endpoint

from aicmo_gateway.testing.conformance import WebhookDispatchConformance

from .conftest import PATHS, SECRET, Receiver

FAILURES: dict[str, dict[str, Any]] = {
    "bad_credentials": {"status": 401, "body": '{"error": "unauthorized"}'},
    "rate_limited": {"status": 429, "headers": {"Retry-After": "7"}},
    "invalid_input": {"status": 422, "body": '{"error": "missing field name"}'},
    "service_down": {"status": 503},
    "unknown_outcome": {"status": 200, "delay": 3.0},  # past a 1 s timeout
}


class ScriptedReceiver:
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def fail_next(self, kind: str) -> None:
        if kind not in FAILURES:
            raise NotImplementedError(kind)
        self.receiver.answer(PATHS[0], **FAILURES[kind])


class TestWebhookDispatcherConformance(WebhookDispatchConformance):
    plugin_module = "aicmo_gateway_webhooks.plugin"
    optional_dependencies = ("httpx",)
    # check() resolves the host through the SSRF guard and sends nothing (a test event would
    # be a delivery), so it cannot see a refused credential
    check_contacts_service = False

    @pytest.fixture
    def service(self, receiver: Receiver) -> ScriptedReceiver:
        return ScriptedReceiver(receiver)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET, SECRET.removeprefix("whsec_")]

    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return webhook_endpoint(**{**settings, "timeout": 1.0})
