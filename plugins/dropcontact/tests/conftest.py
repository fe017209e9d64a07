"""A contract fake of the Dropcontact API on a real local HTTP server (pytest-httpserver).

It keeps the asynchronous protocol developer.dropcontact.com documents: ``POST
/v1/enrich/all`` answers a ``request_id``; ``GET /v1/enrich/all/{request_id}`` answers
HTTP 200 ``{"success": false, "reason": "Request not ready yet, try again in 30
seconds"}`` until the batch is ready (``not_ready`` polls), and for an unknown id; then
``{"success": true, "data": [...]}`` in input order. ``GET /v1/account/credits`` answers
the balance. Each test module says which pages it follows.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import attrs
import pytest
from aicmo_gateway_dropcontact.provider import DropcontactProvider
from aicmo_gateway_dropcontact.settings import DropcontactSettings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]

#: an API key that must never show in an error, a repr or a log line
API_KEY = "dropcontact-test-key-Yp4Kw9"
NOT_READY = "Request not ready yet, try again in 30 seconds"


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def default_record(sent: dict[str, Any]) -> dict[str, Any]:
    """Dropcontact's answer for one record: a verified address and some company data.

    An address whose local part names a qualification (``invalid.x@...``,
    ``catch_all.x@...``) gets that qualification; others are ``nominative@pro``.
    """
    record: dict[str, Any] = {k: v for k, v in sent.items() if k != "email"}
    email = sent.get("email")
    if email:
        local = email.split("@")[0]
        qualification = "nominative@pro"
        for word in ("invalid", "catch_all", "generic", "non_validated", "disposable"):
            if local.startswith(word):
                qualification = {
                    "disposable": "nominative@disposable",
                }.get(word, f"{word}@pro")
        record["email"] = [{"email": email, "qualification": qualification}]
    return record


@attrs.define
class DropcontactFake:
    """The service's state: submitted batches, how many polls each answered, its answers."""

    server: HTTPServer
    not_ready: int = 0
    answer: Callable[[dict[str, Any]], dict[str, Any]] = default_record
    credits_left: int = 1000
    batches: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)
    polls: dict[str, int] = attrs.field(factory=dict)
    submissions: list[dict[str, Any]] = attrs.field(factory=list)
    _ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def install(self) -> None:
        self.server.expect_request("/v1/enrich/all", method="POST").respond_with_handler(
            self.submit
        )
        self.server.expect_request(
            re.compile(r"^/v1/enrich/all/[^/]+$"), method="GET"
        ).respond_with_handler(self.fetch)
        self.server.expect_request("/v1/account/credits", method="GET").respond_with_handler(
            lambda request: _json({"credits": self.credits_left})
        )

    def submit(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.submissions.append(body)
        request_id = f"req{next(self._ids)}"
        self.batches[request_id] = body["data"]
        self.polls[request_id] = 0
        return _json(
            {
                "credits_left": self.credits_left,
                "request_id": request_id,
                "error": False,
                "success": True,
            }
        )

    def fetch(self, request: Request) -> Response:
        request_id = request.path.rsplit("/", 1)[1]
        if request_id not in self.batches:  # documented: an unknown id looks "not ready"
            return _json({"error": False, "reason": NOT_READY, "success": False})
        self.polls[request_id] += 1
        if self.polls[request_id] <= self.not_ready:
            return _json({"error": False, "reason": NOT_READY, "success": False})
        data = [self.answer(record) for record in self.batches[request_id]]
        return _json(
            {"data": data, "error": False, "success": True, "credits_left": self.credits_left}
        )


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def fake(httpserver: HTTPServer) -> DropcontactFake:
    service = DropcontactFake(httpserver)
    service.install()
    return service


@pytest.fixture
def settings_for(httpserver: HTTPServer) -> Callable[..., dict[str, Any]]:
    """Config keys for a provider talking to the fake, with polling fast enough for tests."""

    def make(**changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": httpserver.url_for("/").rstrip("/"),
            "poll_interval": 0.01,
            "poll_timeout": 5.0,
            "timeout": 2.0,
        }
        values.update(changes)
        return values

    return make


@pytest.fixture
async def make_provider(
    settings_for: Callable[..., dict[str, Any]],
) -> AsyncIterator[Callable[..., DropcontactProvider]]:
    made: list[DropcontactProvider] = []

    def make(**changes: Any) -> DropcontactProvider:
        provider = DropcontactProvider(DropcontactSettings(**settings_for(**changes)))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()
