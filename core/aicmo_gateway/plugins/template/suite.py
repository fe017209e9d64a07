"""The rendered distribution's tests: the fake service, the port's conformance suite wired,
the plugin as the gateway loads it."""

from __future__ import annotations

__all__ = ["CONFTEST", "TEST_CONFORMANCE", "TEST_PLUGIN"]

CONFTEST = """\
\"\"\"A fake of the service on a local server, speaking the API the provider module uses.

Write yours from the real service's documentation: its paths, bodies, statuses and errors.
``fail_next(kind)`` makes the next request fail as the conformance suite asks.
\"\"\"

from __future__ import annotations

<<fake_imports>>import json
from typing import Any

import pytest
from aicmo_gateway.testing.httpfake import HttpFailures
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "test-key-0123456789-secret"

#: the service's answer to each failure the suite scripts (unknown_outcome: a late answer)
FAILURES: dict[str, tuple[int, Any, dict[str, str]]] = {
    "bad_credentials": (401, {"error": "invalid API key"}, {}),
    "rate_limited": (429, {"error": "too many requests"}, {"Retry-After": "3"}),
    "quota_spent": (402, {"error": "no credits left"}, {}),
    "invalid_input": (422, {"error": "the payload is invalid"}, {}),
    "service_down": (503, {"error": "down for maintenance"}, {}),
}


def answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


class FakeService:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.failures = HttpFailures(server, FAILURES)
        server.expect_request("/check").respond_with_handler(self._check)<<fake_init>>

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def fail_next(self, kind: str) -> None:
        self.failures.fail_next(kind)

    def _route(self, path: str, handler: Any) -> None:
        def guarded(request: Request) -> Response:
            if request.headers.get("Authorization") != f"Bearer {API_KEY}":
                return answer({"error": "invalid API key"}, 401)
            return answer(handler(json.loads(request.get_data() or b"null")))

        self.server.expect_request(path, method="POST").respond_with_handler(guarded)

    def _check(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return answer({"error": "invalid API key"}, 401)
        return answer({})
<<fake_methods>>

@pytest.fixture
def fake(threaded_httpserver: HTTPServer) -> FakeService:
    return FakeService(threaded_httpserver)


@pytest.fixture
def settings(fake: FakeService) -> dict[str, Any]:
    \"\"\"Config keys for a provider on the fake (a short timeout: the suite answers late).\"\"\"
    return {"api_key": API_KEY, "base_url": fake.url, "timeout": 1.0}
"""

TEST_CONFORMANCE = """\
\"\"\"The core's conformance suite for the ``<<port>>`` port, against the fake service.\"\"\"

from __future__ import annotations

<<suite_std>>from typing import Any

import pytest
<<suite_imports>>

from <<pkg>>.plugin import create

from .conftest import API_KEY, FakeService


class Test<<title>>Conformance(<<suite>>):
    plugin_module = "<<pkg>>.plugin"
    optional_dependencies = ("httpx",)<<suite_body>>

    @pytest.fixture
    def service(self, fake: FakeService) -> FakeService:
        return fake

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [API_KEY]

    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return create(**settings)
<<suite_fixtures>>"""

TEST_PLUGIN = """\
\"\"\"The plugin as the gateway loads it: its provider type and a misspelt setting.\"\"\"

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway import ConfigError

from <<pkg>> import plugin


def test_the_plugin_offers_its_provider_type(register_plugin: Any, aicmo_registry: Any) -> None:
    register_plugin(plugin, name="<<dist>>")
    provider_type = aicmo_registry.get("<<port>>", "<<type>>")
    assert provider_type.has_check


def test_a_misspelt_setting_is_a_config_error_naming_it(
    register_plugin: Any, make_gateway: Any
) -> None:
    register_plugin(plugin, name="<<dist>>")
    config = {
        "capabilities": {"<<port>>": {"providers": ["main"]}},
        "providers": {
            "main": {
                "type": "<<type>>",
                "api_key": "k",
                "base_url": "http://127.0.0.1:9",
                "timout": 3,
            }
        },
    }
    with pytest.raises(ConfigError, match="timout"):
        make_gateway(config)
"""
