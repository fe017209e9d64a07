"""A contract fake of the Apollo API on a real local HTTP server (pytest-httpserver).

The answers are shaped as docs.apollo.io documents them (people enrichment, bulk
people enrichment, organization enrichment, status codes, rate limits); each test module
says which pages it follows. ``make_enricher(...)`` builds an enricher pointed at the
server and closes it after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aicmo_gateway_apollo.enricher import ApolloEnricher
from aicmo_gateway_apollo.settings import ApolloSettings
from pytest_httpserver import HTTPServer

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]

#: an API key that must never show in an error, a repr or a log line
API_KEY = "apollo-test-key-Zq8Xw3"


def person(**changes: Any) -> dict[str, Any]:
    """A matched person as people/match returns it (abridged from Apollo's example)."""
    record: dict[str, Any] = {
        "id": "64a7ff0cc4dfae00013df1a5",
        "first_name": "Tim",
        "last_name": "Zheng",
        "name": "Tim Zheng",
        "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
        "title": "Founder & CEO",
        "email_status": "verified",
        "headline": "Founder & CEO at Apollo",
        "email": "tim@apollo.io",
        "organization_id": "5e66b6381e05b4008c8331b8",
        "state": "California",
        "city": "San Francisco",
        "country": "United States",
        "seniority": "founder",
        "organization": {
            "id": "5e66b6381e05b4008c8331b8",
            "name": "Apollo.io",
            "website_url": "http://www.apollo.io",
            "primary_domain": "apollo.io",
            "industry": "information technology & services",
            "estimated_num_employees": 1600,
        },
    }
    record.update(changes)
    return record


def organization(**changes: Any) -> dict[str, Any]:
    """An organization as organizations/enrich returns it (abridged)."""
    record: dict[str, Any] = {
        "id": "5e66b6381e05b4008c8331b8",
        "name": "Apollo.io",
        "primary_domain": "apollo.io",
        "industry": "information technology & services",
        "estimated_num_employees": 1600,
        "city": "San Francisco",
    }
    record.update(changes)
    return record


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture(name="person")
def person_fixture() -> Callable[..., dict[str, Any]]:
    return person


@pytest.fixture(name="organization")
def organization_fixture() -> Callable[..., dict[str, Any]]:
    return organization


@pytest.fixture
def settings_for(httpserver: HTTPServer) -> Callable[..., dict[str, Any]]:
    """Config keys for an enricher talking to the fake, as a config file would give them."""

    def make(**changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": httpserver.url_for("/").rstrip("/"),
            "timeout": 2.0,
        }
        values.update(changes)
        return values

    return make


@pytest.fixture
async def make_enricher(
    settings_for: Callable[..., dict[str, Any]],
) -> AsyncIterator[Callable[..., ApolloEnricher]]:
    made: list[ApolloEnricher] = []

    def make(**changes: Any) -> ApolloEnricher:
        enricher = ApolloEnricher(ApolloSettings(**settings_for(**changes)))
        made.append(enricher)
        return enricher

    yield make
    for enricher in made:
        await enricher.aclose()
