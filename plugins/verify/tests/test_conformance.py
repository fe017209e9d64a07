"""The core's email-verification conformance suite, against the local DNS server.

The ``dns`` verifier has no account, so no credential, rate limit or quota failure exists
for it; and it answers a failing nameserver (SERVFAIL, no answer) with an ``unknown``
verdict rather than an error, by design (test_verdicts.py covers both). Its fake service
therefore scripts no failure.
"""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_verify.plugin import create

from aicmo_gateway.ports import Verdict
from aicmo_gateway.testing.conformance import EmailVerificationConformance, OfflineService


class TestDnsVerifierConformance(EmailVerificationConformance):
    plugin_module = "aicmo_gateway_verify.plugin"
    heavy_modules = ("dns", "email_validator", "httpx")
    verdicts = {
        "ada@good.example.com": Verdict.DELIVERABLE,
        "grace@aonly.example.com": Verdict.DELIVERABLE,
        "ada@nullmx.example.com": Verdict.UNDELIVERABLE,
        "ada@missing.example.com": Verdict.UNDELIVERABLE,
        "ada@broken.example.com": Verdict.UNKNOWN,
    }

    @pytest.fixture
    def service(self) -> OfflineService:
        return OfflineService()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return []

    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return create(**settings)
