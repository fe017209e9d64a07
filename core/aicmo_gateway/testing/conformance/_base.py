"""What every port's conformance suite checks, whatever the port.

A suite is a pytest class with fixtures the author overrides:

``provider``
    a constructed provider talking to the fake service.
``service``
    the fake service, scriptable through :class:`ScriptableService` (``fail_next(kind)``).
``secrets``
    the credential strings the provider was given (``[]`` when it has none); they must not
    appear in the provider's repr, in any error it raises, nor in what it logs.

and class attributes:

``plugin_module``
    the module named by the plugin's ``aicmo_gateway`` entry point; importing it must stay
    cheap (``heavy_modules`` load only when a provider is built or used).
``optional_dependencies``
    top-level modules the provider needs that a user may lack (``("httpx",)``); with one of
    them missing, using the provider must raise an error that says what to ``pip install``.
``check_contacts_service``
    ``False`` when ``check()`` looks at the configuration only; then a refused credential is
    only found by the first real call, and the suite does not expect ``check()`` to see it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

import pytest
from loguru import logger

from aicmo_gateway.errors import (
    Ambiguous,
    AuthError,
    ConfigError,
    InvalidInput,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)
from aicmo_gateway.ports import PORTS
from aicmo_gateway.ports.protocols import Effect

__all__ = [
    "EXPECTED_ERRORS",
    "FAILURES",
    "OfflineService",
    "OptionalFailureChecks",
    "PortConformance",
    "Run",
    "ScriptableService",
    "call",
]

#: what a fake service can be asked to do to the next request, in the order the suites try them
FAILURES = (
    "bad_credentials",  # the service refuses the credentials (HTTP 401/403, SMTP 535)
    "rate_limited",  # the service asks to slow down (HTTP 429)
    "quota_spent",  # the account's quota or credits for the period are used up
    "invalid_input",  # the service rejects the payload itself (HTTP 400/422)
    "service_down",  # the service is unreachable or failing (HTTP 500/503, refused connection)
    "unknown_outcome",  # the request was sent but no answer came (timeout, dropped connection)
)

#: the error class a provider must raise for each failure
EXPECTED_ERRORS: dict[str, type[ProviderError]] = {
    "bad_credentials": AuthError,
    "rate_limited": RateLimited,
    "quota_spent": QuotaExhausted,
    "invalid_input": InvalidInput,
    "service_down": Unavailable,
    "unknown_outcome": Ambiguous,
}


@runtime_checkable
class ScriptableService(Protocol):
    """What the suites need from an author's fake service.

    ``fail_next(kind)`` makes the next request the provider sends fail as ``kind`` (one of
    :data:`FAILURES`); later requests are served normally again. A fake that cannot produce a
    kind (a webhook endpoint has no quota) raises :class:`NotImplementedError`, and the suite
    skips that case, saying so.
    """

    def fail_next(self, kind: str) -> None: ...


class OfflineService:
    """The ``service`` of a provider that talks to no service (a local file, a simulator).

    It can produce no failure, so the suite skips every failure case for it.
    """

    def fail_next(self, kind: str) -> None:
        raise NotImplementedError(f"no service to fail with {kind!r}")


def call(method: Callable[..., Any], *args: Any) -> Any:
    """Call a provider method, sync or async, from a synchronous test (a new event loop)."""
    result = method(*args)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


class Run:
    """Calls provider methods, sync or async, in one event loop for the whole test.

    A provider keeping a connection pool (httpx) must see one loop; at the end of the test
    the providers it called are closed (``aclose()``) in that loop.
    """

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._seen: list[Any] = []

    def __call__(self, method: Callable[..., Any], *args: Any) -> Any:
        owner = getattr(method, "__self__", None)
        if owner is not None and all(owner is not seen for seen in self._seen):
            self._seen.append(owner)
        result = method(*args)
        if inspect.isawaitable(result):
            return self._runner.run(_await(result))
        return result

    def close(self) -> None:
        try:
            for provider in self._seen:
                aclose = getattr(provider, "aclose", None)
                if aclose is not None:
                    self(aclose)
        finally:
            self._runner.close()


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret appears in {where}: {text[:300]!r}"


class OptionalFailureChecks:
    """For the suites that predate the failure protocol (email sending, reply fetching): their
    authors' tests keep working without ``service`` and ``secrets``; those checks are skipped,
    saying why, until the fixtures are given."""

    @pytest.fixture
    def service(self) -> Any:
        pytest.skip("provide a `service` fixture (fail_next(kind)) to run the failure checks")

    @pytest.fixture
    def secrets(self) -> list[str]:
        pytest.skip("provide a `secrets` fixture to run the secret checks")


class PortConformance:
    """The checks shared by every port's suite; subclass a port's suite, not this."""

    #: the capability (a key of :data:`aicmo_gateway.ports.PORTS`); set by each port's suite
    port: ClassVar[str] = ""
    plugin_module: ClassVar[str | None] = None
    heavy_modules: ClassVar[tuple[str, ...]] = ("httpx",)
    optional_dependencies: ClassVar[tuple[str, ...]] = ()
    check_contacts_service: ClassVar[bool] = True
    #: ``True`` for providers that perform nothing (``noop``): records say ``performed=False``
    simulates: ClassVar[bool] = False

    # -- fixtures the author provides ------------------------------------------------------

    @pytest.fixture
    def provider(self) -> Any:
        raise NotImplementedError("provide a `provider` fixture: a provider using the fake")

    @pytest.fixture
    def service(self) -> Any:
        raise NotImplementedError(
            "provide a `service` fixture: the fake service, with fail_next(kind) "
            "(see aicmo_gateway.testing.conformance.ScriptableService)"
        )

    @pytest.fixture
    def secrets(self) -> list[str]:
        raise NotImplementedError(
            "provide a `secrets` fixture: the credentials given to the provider ([] if none)"
        )

    # -- fixtures of the suite -------------------------------------------------------------

    @pytest.fixture
    def run(self) -> Iterator[Run]:
        runner = Run()
        yield runner
        runner.close()

    @pytest.fixture
    def log_text(self) -> Iterator[list[str]]:
        """What the core and the plugin log during the test, at every level."""
        lines: list[str] = []
        names = ["aicmo_gateway"]
        if self.plugin_module:
            names.append(self.plugin_module.split(".")[0])
        for name in names:
            logger.enable(name)
        handler = logger.add(lambda m: lines.append(str(m)), level="DEBUG", format="{message}")
        yield lines
        logger.remove(handler)
        for name in names:
            logger.disable(name)

    # -- what each port's suite defines ----------------------------------------------------

    def sample(self, operation: str) -> Any:
        """The argument for one call of ``operation`` (a single-item operation of the port)."""
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------

    @property
    def spec(self) -> Any:
        return PORTS[self.port]

    def script(self, service: Any, kind: str) -> None:
        if not isinstance(service, ScriptableService):
            raise TypeError(
                f"the `service` fixture gave {type(service).__name__}, which has no "
                "fail_next(kind) method; see aicmo_gateway.testing.conformance.ScriptableService"
            )
        try:
            service.fail_next(kind)
        except NotImplementedError as exc:
            why = f": {exc}" if str(exc) not in ("", kind) else ""
            pytest.skip(f"the fake service cannot produce {kind!r}{why}")

    # -- the checks ------------------------------------------------------------------------

    def test_provider_has_the_port_methods_with_their_signatures(self, provider: Any) -> None:
        assert isinstance(provider, self.spec.protocol), (
            f"{type(provider).__name__} lacks a method of the {self.port} port"
        )
        for op in self.spec.operations:
            method = getattr(provider, op.name, None)
            if method is None:
                assert op.batch_of is not None, f"{op.name}() is missing"
                continue
            argument = self.sample(op.batch_of or op.name)
            if op.batch_of:
                argument = [argument]
            inspect.signature(method).bind(argument)
        for optional in ("check", "aclose"):
            method = getattr(provider, optional, None)
            if method is not None:
                inspect.signature(method).bind()

    @pytest.mark.parametrize("kind", FAILURES)
    def test_each_documented_failure_raises_its_error_class(
        self,
        provider: Any,
        service: Any,
        secrets: list[str],
        log_text: list[str],
        run: Run,
        kind: str,
    ) -> None:
        if self.simulates:
            pytest.skip("a simulating provider talks to no service")
        for op in self.spec.single_operations:
            self.script(service, kind)
            expected: tuple[type[BaseException], ...] = (EXPECTED_ERRORS[kind],)
            if kind == "unknown_outcome" and op.effect is Effect.READ:
                # a read that got no answer performed nothing a retry could duplicate
                expected = (Ambiguous, Unavailable)
            with pytest.raises(ProviderError) as raised:
                run(getattr(provider, op.name), self.sample(op.name))
            error = raised.value
            assert isinstance(error, expected), (
                f"{op.name}() after {kind!r} raised {type(error).__name__}, "
                f"expected {' or '.join(e.__name__ for e in expected)}: {error}"
            )
            if kind == "service_down":
                assert not isinstance(error, AuthError | QuotaExhausted | InvalidInput)
            if kind == "rate_limited":
                assert not isinstance(error, QuotaExhausted)
            for link in _chain(error):
                assert_no_secret(f"{link!s} {link!r}", secrets, f"the {kind} error")
        assert_no_secret("\n".join(log_text), secrets, "the log")

    def test_check_passes_on_a_working_provider(self, provider: Any, run: Run) -> None:
        check = getattr(provider, "check", None)
        if check is None:
            pytest.skip("the provider has no check()")
        run(check)

    def test_check_reports_refused_credentials(
        self, provider: Any, service: Any, secrets: list[str], run: Run
    ) -> None:
        check = getattr(provider, "check", None)
        if check is None or self.simulates or not self.check_contacts_service:
            pytest.skip("check() does not contact the service")
        self.script(service, "bad_credentials")
        with pytest.raises(AuthError) as raised:
            run(check)
        assert_no_secret(str(raised.value), secrets, "check()'s error")

    def test_secrets_are_absent_from_the_providers_repr(
        self, provider: Any, secrets: list[str]
    ) -> None:
        assert_no_secret(repr(provider), secrets, "repr(provider)")
        assert_no_secret(str(provider), secrets, "str(provider)")

    def test_importing_the_plugin_module_is_cheap(self) -> None:
        if self.plugin_module is None:
            pytest.skip("set plugin_module to the module the entry point names")
        code = (
            "import importlib, json, sys\n"
            f"module = importlib.import_module({self.plugin_module!r})\n"
            f"heavy = {list(self.heavy_modules)!r}\n"
            f"hook = getattr(module, {self.spec.hook!r}, None)\n"
            "types = [t.name for t in hook()] if hook else []\n"
            "print(json.dumps([[m for m in heavy if m in sys.modules], types]))\n"
        )
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 0, done.stderr
        loaded, types = json.loads(done.stdout.strip().splitlines()[-1])
        assert loaded == [], f"importing {self.plugin_module} imported {loaded}"
        assert types, f"{self.plugin_module} has no {self.spec.hook} hook giving provider types"

    def test_a_missing_optional_dependency_says_what_to_install(
        self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if not self.optional_dependencies:
            pytest.skip("set optional_dependencies to the modules a user may lack")
        for name in self.optional_dependencies:
            monkeypatch.setitem(sys.modules, name, None)  # `import name` now fails
        run = Run()
        try:
            with pytest.raises((ImportError, ProviderError, ConfigError)) as raised:  # noqa: PT012
                provider = request.getfixturevalue("provider")
                op = self.spec.single_operations[0]
                run(getattr(provider, op.name), self.sample(op.name))
        finally:
            monkeypatch.undo()
            run.close()
        text = " ".join(str(link) for link in _chain(raised.value))
        assert "pip install" in text, f"the error does not say what to install: {text}"
