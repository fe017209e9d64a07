"""The files of a rendered plugin; ``<<key>>`` marks a value (see ``render_plugin``)."""

# ruff: noqa: E501  (rendered text; tests/test_new_plugin.py runs ruff on the rendered files)

from __future__ import annotations

import re

__all__ = ["files"]

PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "<<dist>>"
version = "0.1.0"
description = "<<summary>> for aicmo-gateway."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["aicmo-gateway[http]<<core_range>>", "attrs>=23.1"]

[project.optional-dependencies]
test = ["pytest>=8", "pytest-httpserver>=1.0"]

[project.entry-points.aicmo_gateway]
<<name>> = "<<pkg>>.plugin"

[tool.hatch.build.targets.wheel]
packages = ["<<pkg>>"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = ["-ra", "--strict-markers", "--import-mode=importlib", "-p", "aicmo_gateway.testing.pytest_plugin"]
filterwarnings = ["error"]

[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "RUF"]

[tool.mypy]
strict = true
"""

README = """\
# <<dist>>

<<summary>> for [aicmo-gateway](https://github.com/aicmo/aicmo-gateway): the `<<type>>`
provider type of the `<<port>>` port.

```console
$ pip install ./<<dist>>
$ aicmo-gateway plugins
```

```toml
[capabilities.<<port>>]
providers = ["<<name>>"]

[providers.<<name>>]
type = "<<type>>"
api_key = "${<<env>>_API_KEY}"
base_url = "https://api.example.com/v1"
```

| key | default | meaning |
|---|---|---|
| `api_key` | (required) | the service's API key; sent as `Authorization: Bearer ...`, never logged |
| `base_url` | (required) | the service's API root |
| `timeout` | `10.0` | seconds to wait for one answer |
<<settings_rows>>
## Developing

```console
$ pip install -e '.[test]'
$ pytest          # the port's conformance suite against tests/conftest.py's fake service
$ nox             # tests, ruff and mypy --strict
```

`nox` installs the core from the package index; while it is not published there, name a
checkout of aicmo-gateway: `AICMO_GATEWAY_CORE=/path/to/aicmo-gateway nox`.

The provider (`<<pkg>>/provider.py`) speaks a made-up JSON API (`POST {base_url}/<operation>`);
replace its requests with your service's, and the fake in `tests/conftest.py` with one written
from your service's documentation.
"""

NOXFILE = """\
\"\"\"``nox``: the tests, ruff and mypy --strict.

Each session installs the core from the package index, or from where ``AICMO_GATEWAY_CORE``
says (a checkout of aicmo-gateway, while the core is not on the index):
``AICMO_GATEWAY_CORE=/path/to/aicmo-gateway nox``.
\"\"\"

import os

import nox

#: the core to install: a requirement, or the folder of a checkout of aicmo-gateway
CORE = os.environ.get("AICMO_GATEWAY_CORE", "aicmo-gateway")


@nox.session
def tests(session: nox.Session) -> None:
    session.install(CORE, "-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    session.install(CORE, "-e", ".", "mypy")
    session.run("mypy", "<<pkg>>")
"""

INIT = """\
\"\"\"<<summary>> for aicmo-gateway.

The ``<<type>>`` provider type of the ``<<port>>`` port.

Importing this package is cheap: every ``aicmo-gateway`` command imports it.
\"\"\"

from aicmo_gateway.plugin_kit import silence, version_getattr

# a library's log stays silent until the application enables it (loguru is not imported here)
silence("<<pkg>>")

# __version__, read from the installed metadata when asked for
__getattr__ = version_getattr(__name__, "<<dist>>")

__all__ = ["__version__"]
"""

PLUGIN = """\
\"\"\"The entry point, offering the ``<<type>>`` provider type.

Importing it, and calling its hook, stays cheap: the hook names the settings class without
importing it, the provider module loads when a provider is built, and httpx when it sends its
first request.
\"\"\"

from __future__ import annotations

from typing import Any

from aicmo_gateway import <<plugin_names>>


def create(**settings: Any) -> Any:
    \"\"\"Build a provider from its config keys (see ``Settings``).\"\"\"
    from <<pkg>>.provider import <<cls>>
    from <<pkg>>.settings import Settings

    return <<cls>>(Settings(**settings))


@hookimpl
def <<hook>>() -> list[ProviderType]:
    return [
        ProviderType(
            "<<type>>",
            create,
            "<<summary>>",
            settings="<<pkg>>.settings:Settings",
            has_check=True,<<traits>>
        )
    ]
"""

SETTINGS = """\
\"\"\"The settings of a ``<<type>>`` provider.

They are the keys of its ``[providers.NAME]`` table.
\"\"\"

from __future__ import annotations

import attrs
from aicmo_gateway import Secret


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


@attrs.frozen
class Settings:
    api_key: Secret = attrs.field(converter=_secret)
    base_url: str
    timeout: float = 10.0<<settings_extra>>
"""

PROVIDER = """\
\"\"\"The ``<<type>>`` provider.

<<summary>>.

It speaks a made-up JSON API, ``POST {base_url}/<operation>``, authenticated with a bearer
key; replace the requests with your service's. ``aicmo_gateway.http`` maps the statuses to the
error taxonomy (see docs/plugins/errors.md); ``_call`` refines what only this service says.
\"\"\"

from __future__ import annotations

<<provider_imports>>
from typing import Any

import attrs
from aicmo_gateway import <<provider_names>>
from aicmo_gateway.http import HttpClient, HttpResponse
<<port_imports>>

from <<pkg>>.settings import Settings
<<provider_helpers>>

@attrs.define
class <<cls>>:
    \"\"\"<<summary>> (one provider instance).\"\"\"

    settings: Settings
    _http: HttpClient = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        key = self.settings.api_key.reveal()
        self._http = HttpClient(
            self.settings.base_url,
            timeout=self.settings.timeout,
            headers={"Authorization": Secret(f"Bearer {key}")},
            provider="<<type>>",
        )

    async def _call(self, operation: str, payload: Any, *, write: bool) -> HttpResponse:
        response = await self._http.request(
            "POST", f"/{operation}", json=payload, write=write, raise_for_status=False
        )
        if response.status == 402:  # this service's way of saying the credits are spent
            raise QuotaExhausted(
                f"HTTP 402: the account's credits are spent ({response.detail()}); "
                "buy credits or wait for the renewal",
                provider="<<type>>",
            )
        self._http.raise_for(response)
        return response
<<provider_methods>>
    async def check(self) -> None:
        \"\"\"Raise when the service refuses the key; performs nothing.\"\"\"
        await self._http.request("GET", "/check", write=False)

    async def aclose(self) -> None:
        await self._http.aclose()
"""

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

_FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "noxfile.py": NOXFILE,
    "{pkg}/__init__.py": INIT,
    "{pkg}/py.typed": "",
    "{pkg}/plugin.py": PLUGIN,
    "{pkg}/settings.py": SETTINGS,
    "{pkg}/provider.py": PROVIDER,
    "tests/__init__.py": "",
    "tests/conftest.py": CONFTEST,
    "tests/test_conformance.py": TEST_CONFORMANCE,
    "tests/test_plugin.py": TEST_PLUGIN,
}

_KEY = re.compile(r"<<(\w+)>>")


def files(values: dict[str, str]) -> dict[str, str]:
    """Every file's path (with ``{pkg}``) and its text."""
    return {path: _KEY.sub(lambda m: values[m.group(1)], text) for path, text in _FILES.items()}
