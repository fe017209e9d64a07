"""Dropcontact's asynchronous batch API: submit, then poll until ready or ``poll_timeout``.

Endpoints (developer.dropcontact.com/en/reference): ``POST /v1/enrich/all`` takes up to
250 records and answers ``{"request_id": ..., "success": true, "credits_left": ...}``;
``GET /v1/enrich/all/{request_id}`` answers ``{"success": true, "data": [...]}`` (records
in input order) when ready, and HTTP 200 with ``success: false`` and a reason such as
"Request not ready yet, try again in 30 seconds" otherwise: also for an unknown id, and
while Dropcontact has a temporary problem. That answer is never a result; polling ends at
``poll_timeout`` with ``Unavailable`` naming the request id. ``GET /v1/account/credits``
answers the balance (``check()``).

The waits use ``asyncio.sleep`` on the running loop's clock, so they follow the core's
virtual time in tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from loguru import logger

from aicmo_gateway import (
    AuthError,
    InvalidInput,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)
from aicmo_gateway.http import HttpClient, HttpResponse, retry_after_of
from aicmo_gateway_dropcontact.settings import DropcontactSettings

__all__ = ["BATCH_LIMIT", "MAX_POLL_WAIT", "DropcontactApi"]

#: Dropcontact takes at most 250 records per request
BATCH_LIMIT = 250
#: the longest wait between two polls: Dropcontact's "try again in 30 seconds"
MAX_POLL_WAIT = 30.0

_KEY_FIX = (
    "check api_key: copy the key from app.dropcontact.com/api and set "
    "api_key = '${DROPCONTACT_API_KEY}'"
)
_CREDIT_FIX = (
    "the Dropcontact account has not enough credits for this batch (the whole batch is "
    "refused); buy credits at app.dropcontact.com or wait for the plan's renewal"
)
_PROVIDER = "dropcontact"


def _body(response: HttpResponse) -> Mapping[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, Mapping) else {}


def _reason(body: Mapping[str, Any]) -> str:
    for key in ("reason", "detail", "message", "error"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "no reason given"


def raise_for_dropcontact(client: HttpClient, response: HttpResponse) -> None:
    """Raise the error a Dropcontact answer means (nothing for a 2xx answer)."""
    status = response.status
    if status < 400:
        return
    detail = response.detail()
    if status == 401:
        raise AuthError(
            f"HTTP 401: Dropcontact refused the API key ({detail}); {_KEY_FIX}",
            provider=_PROVIDER,
        )
    if status in (402, 403) and "credit" in detail.lower():
        raise QuotaExhausted(f"HTTP {status}: {detail}; {_CREDIT_FIX}", provider=_PROVIDER)
    if status == 403:
        raise AuthError(
            f"HTTP 403: Dropcontact refused the request ({detail}); {_KEY_FIX}, and check "
            "that the account's API access is active",
            provider=_PROVIDER,
        )
    if status == 429:
        raise RateLimited(
            f"HTTP 429: Dropcontact's rate limit (60 requests a second) is reached ({detail})",
            retry_after=retry_after_of(response.headers),
            provider=_PROVIDER,
        )
    client.raise_for(response)


class DropcontactApi:
    """The requests of one provider instance, on the core's shared HTTP layer."""

    def __init__(self, settings: DropcontactSettings) -> None:
        self.settings = settings
        self._client: HttpClient | None = None

    def __repr__(self) -> str:
        return f"DropcontactApi(base_url={self.settings.base_url!r})"

    def _http(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(
                self.settings.base_url,
                timeout=self.settings.timeout,
                headers={"X-Access-Token": self.settings.api_key, "accept": "application/json"},
                provider=_PROVIDER,
            )
        return self._client

    async def _get_or_post(self, method: str, path: str, *, json: Any = None) -> Mapping[str, Any]:
        client = self._http()
        # a submission spends credits but is a read for the chain: never ``Ambiguous``
        response = await client.request(
            method, path, json=json, write=False, raise_for_status=False
        )
        raise_for_dropcontact(client, response)
        body = response.json()
        if not isinstance(body, Mapping):
            raise Unavailable(
                f"{method} {path}: HTTP {response.status}: expected a JSON object, got "
                f"{type(body).__name__}",
                provider=_PROVIDER,
            )
        return body

    async def enrich(self, records: Sequence[Mapping[str, str]]) -> list[Mapping[str, Any]]:
        """Submit ``records`` (at most 250) and wait for their enriched records, in order."""
        if not records:
            return []
        if len(records) > BATCH_LIMIT:
            raise InvalidInput(
                f"{len(records)} records: Dropcontact takes at most {BATCH_LIMIT} per request",
                provider=_PROVIDER,
            )
        request_id = await self._submit(records)
        data = await self._poll(request_id)
        if len(data) != len(records):
            raise Unavailable(
                f"Dropcontact request {request_id}: {len(data)} records came back for "
                f"{len(records)} sent, so no result can be told apart from another",
                provider=_PROVIDER,
            )
        return [item if isinstance(item, Mapping) else {} for item in data]

    async def _submit(self, records: Sequence[Mapping[str, str]]) -> str:
        payload = {
            "data": list(records),
            "siren": self.settings.siren,
            "language": self.settings.language,
        }
        body = await self._get_or_post("POST", "/v1/enrich/all", json=payload)
        request_id = body.get("request_id")
        if body.get("success") is not True or not isinstance(request_id, str) or not request_id:
            reason = self._http().scrub(_reason(body))
            if "credit" in reason.lower():
                raise QuotaExhausted(f"Dropcontact: {reason}; {_CREDIT_FIX}", provider=_PROVIDER)
            raise Unavailable(
                f"POST /v1/enrich/all: Dropcontact accepted no batch ({reason})",
                provider=_PROVIDER,
            )
        logger.bind(provider=_PROVIDER).debug(
            "submitted {} records as request {} ({} credits left)",
            len(records),
            request_id,
            body.get("credits_left"),
        )
        return request_id

    async def _poll(self, request_id: str) -> list[Any]:
        """The batch's records, polled with backoff; ``Unavailable`` at ``poll_timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.poll_timeout
        wait = self.settings.poll_interval
        path = f"/v1/enrich/all/{quote(request_id, safe='')}"
        last = "nothing yet"
        polls = 0
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise Unavailable(
                    f"Dropcontact request {request_id}: no result after {polls} polls in "
                    f"poll_timeout = {self.settings.poll_timeout:g}s (last answer: {last}); "
                    "raise poll_timeout, or fetch the result later with "
                    f"GET /v1/enrich/all/{request_id} (its credits may be spent)",
                    provider=_PROVIDER,
                )
            await asyncio.sleep(min(wait, remaining))
            polls += 1
            wait = min(wait * 2, max(MAX_POLL_WAIT, self.settings.poll_interval))
            try:
                body = await self._get_or_post("GET", path)
            except (AuthError, QuotaExhausted):
                raise
            except RateLimited as exc:  # the batch is paid for: wait, within the deadline
                last = str(exc)
                wait = max(wait, exc.retry_after or 0.0)
                continue
            except Unavailable as exc:  # a 5xx, a timeout, a broken body: try again
                last = str(exc)
                continue
            if body.get("success") is True and isinstance(body.get("data"), list):
                data: list[Any] = body["data"]
                return data
            last = self._http().scrub(_reason(body))

    async def credits(self) -> Mapping[str, Any]:
        """The account's credit balance (``GET /v1/account/credits``; spends nothing)."""
        return await self._get_or_post("GET", "/v1/account/credits")

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
