"""The ``apollo`` lead enricher: people match, bulk match and organization enrichment.

Endpoints (docs.apollo.io/reference): ``POST /api/v1/people/match`` for one lead,
``POST /api/v1/people/bulk_match`` for up to 10, ``GET /api/v1/organizations/enrich``
for the company when a person's match carries none, ``GET /api/v1/auth/health`` for
``check()``. A 200 without a match is ``Enrichment(found=False)``: an answer, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from loguru import logger

from aicmo_gateway import AuthError, ProviderError, Quota, Unavailable
from aicmo_gateway.http import HttpClient, HttpResponse
from aicmo_gateway.ports import Enrichment, Lead
from aicmo_gateway_apollo.errors import raise_for_apollo
from aicmo_gateway_apollo.mapping import (
    BULK_MATCH,
    PEOPLE_MATCH,
    enrichment_of,
    lead_details,
    needs_company,
    not_found,
)
from aicmo_gateway_apollo.settings import ApolloSettings

__all__ = ["BULK_LIMIT", "ApolloEnricher"]

#: Apollo's bulk match takes at most 10 people per request
BULK_LIMIT = 10


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@attrs.define
class ApolloEnricher:
    """Enriches leads through the Apollo API (one provider instance)."""

    settings: ApolloSettings
    _client: HttpClient | None = attrs.field(default=None, init=False, repr=False)

    @property
    def quotas(self) -> tuple[Quota, ...]:
        """The plan's published request limits, for the chain to keep to."""
        return self.settings.quotas

    def _http(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(
                self.settings.base_url,
                timeout=self.settings.timeout,
                headers={"x-api-key": self.settings.api_key, "accept": "application/json"},
                provider="apollo",
            )
        return self._client

    def _reveal(self) -> dict[str, Any]:
        flags: dict[str, Any] = {
            "reveal_personal_emails": False,
            "reveal_phone_number": self.settings.reveal_phone,
        }
        if self.settings.reveal_phone:
            flags["webhook_url"] = self.settings.webhook_url
        return flags

    async def _call(
        self, method: str, path: str, *, json: Any = None, params: Any = None
    ) -> Mapping[str, Any]:
        client = self._http()
        response: HttpResponse = await client.request(
            method, path, json=json, params=params, write=False, raise_for_status=False
        )
        raise_for_apollo(client, response)
        body = response.json()
        if not isinstance(body, Mapping):
            raise Unavailable(
                f"{method} {path}: HTTP {response.status}: expected a JSON object, got "
                f"{type(body).__name__}",
                provider="apollo",
            )
        return body

    async def enrich(self, lead: Lead) -> Enrichment:
        """The person (and company) Apollo matches for ``lead``; ``found=False`` if none."""
        body = await self._call(
            "POST", "/api/v1/people/match", json={**lead_details(lead), **self._reveal()}
        )
        person = _mapping(body.get("person"))
        if not person:
            return not_found("Apollo matched no person")
        return await self._complete(person, PEOPLE_MATCH, lead)

    async def enrich_many(self, leads: Sequence[Lead]) -> list[Enrichment]:
        """One result per lead, in order, with bulk match (10 leads per request)."""
        results: list[Enrichment] = []
        items = list(leads)
        for start in range(0, len(items), BULK_LIMIT):
            results.extend(await self._bulk(items[start : start + BULK_LIMIT]))
        return results

    async def _bulk(self, leads: list[Lead]) -> list[Enrichment]:
        details = [lead_details(lead) for lead in leads]
        body = await self._call(
            "POST", "/api/v1/people/bulk_match", json={"details": details, **self._reveal()}
        )
        matches = body.get("matches")
        if not isinstance(matches, list) or len(matches) != len(details):
            count = len(matches) if isinstance(matches, list) else "no"
            raise Unavailable(
                f"POST /api/v1/people/bulk_match: Apollo returned {count} matches for "
                f"{len(details)} people, so no match can be told apart from another",
                provider="apollo",
            )
        credits = body.get("credits_consumed")
        results: list[Enrichment] = []
        companies: dict[str, Mapping[str, Any] | ProviderError] = {}
        for lead, match in zip(leads, matches, strict=True):
            person = _mapping(match)
            if person:
                results.append(await self._complete(person, BULK_MATCH, lead, companies))
            else:
                results.append(not_found("Apollo matched no person"))
        if credits is not None:
            logger.bind(provider="apollo").debug(
                "bulk match of {} people used {} credits", len(details), credits
            )
        return results

    async def _complete(
        self,
        person: Mapping[str, Any],
        source: str,
        lead: Lead,
        companies: dict[str, Mapping[str, Any] | ProviderError] | None = None,
    ) -> Enrichment:
        """The person's enrichment, with the company from organization enrichment when the
        match carries no firmographics and a domain is known (the match's, else the lead's).

        The person's match is kept (and its credit not wasted) when organization enrichment
        fails: the failure is named in ``attributes["company_error"]``.
        """
        organization = _mapping(person.get("organization"))
        domain = str(organization.get("primary_domain") or lead.domain or "").strip().lower()
        if not (self.settings.enrich_company and needs_company(person) and domain):
            return enrichment_of(person, source)
        cache = {} if companies is None else companies
        if domain not in cache:
            try:
                body = await self._call(
                    "GET", "/api/v1/organizations/enrich", params={"domain": domain}
                )
                cache[domain] = _mapping(body.get("organization"))
            except ProviderError as exc:
                cache[domain] = exc
        found = cache[domain]
        if isinstance(found, ProviderError):
            logger.bind(provider="apollo").warning(
                "organization enrichment of {} failed: {}", domain, str(found)
            )
            enrichment = enrichment_of(person, source)
            attributes = {**enrichment.attributes, "company_error": str(found)}
            return attrs.evolve(enrichment, attributes=attributes)
        return enrichment_of(person, source, organization=found)

    async def check(self) -> None:
        """Raise when Apollo refuses the key; costs no credits (``GET /api/v1/auth/health``).

        It does not show whether the key may call the enrichment endpoints: a key limited
        to other endpoints passes, and its first enrichment fails with a 403 naming the fix.
        """
        body = await self._call("GET", "/api/v1/auth/health")
        if body.get("is_logged_in") is False:
            raise AuthError(
                "Apollo does not recognise the API key (auth/health: is_logged_in is false); "
                "create a key under Settings > Integrations > API and set api_key",
                provider="apollo",
            )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
