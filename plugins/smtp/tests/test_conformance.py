"""The core's conformance suite for email senders, against a real server with STARTTLS and AUTH."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aicmo_gateway_smtp.plugin import smtp_sender

from aicmo_gateway.testing.conformance import EmailSenderConformance

from .conftest import PASSWORD


class TestSmtpSenderConformance(EmailSenderConformance):
    plugin_module = "aicmo_gateway_smtp.plugin"
    heavy_modules = ("aiosmtplib",)

    @pytest.fixture
    def service(self, server: Any) -> Any:
        # the real server, answering the next transaction as the suite asks (conftest.SCRIPTED)
        return server

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [PASSWORD]

    @pytest.fixture
    def server(self, smtp_server: Any) -> Any:
        return smtp_server("starttls")

    @pytest.fixture
    def provider(self, server: Any, settings_for: Any) -> Any:
        # the suite runs each call in its own event loop: keep no connection between calls
        return smtp_sender(**settings_for(server, max_idle=0))

    @pytest.fixture
    def delivered(self, server: Any) -> Callable[[], list[bytes]]:
        return lambda: [m.content for m in server.messages]
