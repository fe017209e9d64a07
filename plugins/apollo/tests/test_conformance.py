"""The core's lead-enrichment conformance suite, against a stateful fake of Apollo.

The fake knows one person (``tim@apollo.io``) for people/match and people/bulk_match;
``fail_next(kind)`` answers the next request as docs.apollo.io documents each failure.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aicmo_gateway_apollo.plugin import apollo_enricher
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aicmo_gateway.ports import Lead
from aicmo_gateway.testing.conformance import LeadEnrichmentConformance
from aicmo_gateway.testing.httpfake import Answer, HttpFailures

from .conftest import API_KEY, organization, person

KNOWN = "tim@apollo.io"

FAILURES: dict[str, Answer] = {
    "bad_credentials": (401, {"error": "Invalid access credentials."}, {}),
    "rate_limited": (429, {"error": "Too many requests"}, {"retry-after": "17"}),
    "quota_spent": (422, {"error": "You have insufficient credits to enrich this record."}, {}),
    "invalid_input": (422, {"error": "Not a valid ID"}, {}),
    "service_down": (503, {"error": "Service Unavailable"}, {}),
}


def _json(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json")


class FakeApollo:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        server.expect_request("/api/v1/people/match").respond_with_handler(self.match)
        server.expect_request("/api/v1/people/bulk_match").respond_with_handler(self.bulk)
        server.expect_request("/api/v1/organizations/enrich").respond_with_json(
            {"organization": organization()}
        )
        server.expect_request("/api/v1/auth/health").respond_with_json({"is_logged_in": True})
        self.fail_next = HttpFailures(server, FAILURES).fail_next

    @staticmethod
    def _person(details: dict[str, Any]) -> dict[str, Any] | None:
        return person() if details.get("email") == KNOWN else None

    def match(self, request: Request) -> Response:
        return _json({"person": self._person(json.loads(request.get_data()))})

    def bulk(self, request: Request) -> Response:
        details = json.loads(request.get_data())["details"]
        return _json({"status": "success", "matches": [self._person(d) for d in details]})


class TestApolloEnrichmentConformance(LeadEnrichmentConformance):
    @pytest.fixture
    def server(self, threaded_httpserver: HTTPServer) -> HTTPServer:
        return threaded_httpserver

    plugin_module = "aicmo_gateway_apollo.plugin"
    optional_dependencies = ("httpx",)
    known_lead = Lead(email=KNOWN)
    unknown_lead = Lead(email="nobody@example.com")

    @pytest.fixture
    def service(self, server: HTTPServer) -> FakeApollo:
        return FakeApollo(server)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [API_KEY]

    @pytest.fixture
    def provider(self, service: FakeApollo, settings_for: Any) -> Any:
        url = service.server.url_for("/").rstrip("/")
        return apollo_enricher(**settings_for(timeout=1.0, base_url=url))
