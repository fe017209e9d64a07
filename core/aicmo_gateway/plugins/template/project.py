"""The rendered distribution's own files: ``pyproject.toml``, ``README.md``, ``noxfile.py``."""

# ruff: noqa: E501  (rendered text; tests/test_new_plugin.py runs ruff on the rendered files)

from __future__ import annotations

__all__ = ["NOXFILE", "PYPROJECT", "README"]

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
