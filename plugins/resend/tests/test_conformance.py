"""The core's conformance suite for email senders, against the Resend contract fake.

The fake renders each accepted ``POST /emails`` body as the RFC 5322 message a recipient gets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aicmo_gateway_resend.plugin import resend_sender

from aicmo_gateway.testing.conformance import EmailSenderConformance


class TestResendSenderConformance(EmailSenderConformance):
    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return resend_sender(**settings)

    @pytest.fixture
    def delivered(self, resend: Any) -> Callable[[], list[bytes]]:
        return resend.delivered
