"""The core's lead-enrichment and email-verification conformance suites, against the fake.

``fail_next(kind)`` answers the next request (the batch's submission) as
developer.dropcontact.com/en/errors documents each failure.
"""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_dropcontact.plugin import dropcontact_provider
from pytest_httpserver import HTTPServer

from aicmo_gateway.ports import Lead, Verdict
from aicmo_gateway.testing.conformance import (
    EmailVerificationConformance,
    LeadEnrichmentConformance,
)
from aicmo_gateway.testing.httpfake import Answer, HttpFailures

from .conftest import API_KEY, DropcontactFake, default_record

UNKNOWN = "nobody@example.com"

FAILURES: dict[str, Answer] = {
    "bad_credentials": (401, {"error": True, "reason": "Invalid token", "success": False}, {}),
    "rate_limited": (429, {"error": True, "reason": "Too many requests", "success": False}, {}),
    "quota_spent": (
        403,
        {"error": True, "reason": "You don't have enough credits", "success": False},
        {},
    ),
    "invalid_input": (422, {"detail": [{"msg": "field required"}]}, {}),
    "service_down": (503, {"error": True, "reason": "Service unavailable", "success": False}, {}),
}


def answer(sent: dict[str, Any]) -> dict[str, Any]:
    """Dropcontact's record: the unknown lead only echoed, the others completed."""
    record = default_record(sent)
    if sent.get("email") != UNKNOWN:
        record.update(first_name="Ada", last_name="Lovelace", job="Countess")
    return record


class Dropcontact:
    """The suites' fixtures, shared by both ports."""

    plugin_module = "aicmo_gateway_dropcontact.plugin"
    optional_dependencies = ("httpx",)

    @pytest.fixture
    def server(self, threaded_httpserver: HTTPServer) -> HTTPServer:
        return threaded_httpserver

    @pytest.fixture
    def service(self, server: HTTPServer) -> HttpFailures:
        DropcontactFake(server, answer=answer).install()
        return HttpFailures(server, FAILURES)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [API_KEY]

    @pytest.fixture
    def provider(self, server: HTTPServer, service: HttpFailures, settings_for: Any) -> Any:
        url = server.url_for("/").rstrip("/")
        return dropcontact_provider(**settings_for(base_url=url, timeout=1.0))


class TestDropcontactEnrichmentConformance(Dropcontact, LeadEnrichmentConformance):
    known_lead = Lead(email="ada@example.com")
    unknown_lead = Lead(email=UNKNOWN)


class TestDropcontactVerificationConformance(Dropcontact, EmailVerificationConformance):
    verdicts = {
        "ada@example.com": Verdict.DELIVERABLE,
        "invalid.grace@example.com": Verdict.UNDELIVERABLE,
        "catch_all.ada@example.com": Verdict.RISKY,
    }
