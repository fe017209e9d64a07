"""The core's CRM-sync conformance suite, against the Airtable contract fake."""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_airtable.plugin import airtable_crm

from aicmo_gateway.testing.conformance import CrmSyncConformance

#: how the fake answers each failure the suite scripts (from Airtable's "Errors" page)
FAILURES: dict[str, tuple[int, Any, dict[str, Any]]] = {
    "bad_credentials": (401, {"error": {"type": "AUTHENTICATION_REQUIRED"}}, {}),
    "rate_limited": (429, {"error": {"type": "RATE_LIMIT_REACHED"}}, {}),
    "quota_spent": (402, {"error": {"type": "PUBLIC_API_BILLING_LIMIT_EXCEEDED"}}, {}),
    "invalid_input": (422, {"error": {"type": "INVALID_REQUEST_UNKNOWN"}}, {}),
    "service_down": (503, {"error": {"type": "SERVICE_UNAVAILABLE"}}, {}),
    # answered long after the provider's timeout (1 s)
    "unknown_outcome": (200, {"records": []}, {"delay": 3.0}),
}


class ScriptedAirtable:
    def __init__(self, fake: Any) -> None:
        self.fake = fake

    def fail_next(self, kind: str) -> None:
        status, body, options = FAILURES[kind]
        self.fake.answer_next(status, body, **options)


class TestAirtableCrmConformance(CrmSyncConformance):
    plugin_module = "aicmo_gateway_airtable.plugin"
    optional_dependencies = ("httpx",)

    @pytest.fixture
    def service(self, airtable: Any) -> ScriptedAirtable:
        return ScriptedAirtable(airtable)

    @pytest.fixture
    def secrets(self, airtable: Any) -> list[str]:
        return [airtable.token]

    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return airtable_crm(**{**settings, "timeout": 1.0})
