"""The secret-leak matrix: a server that echoes credentials, and every surface that could show them.

Two worlds, each with its secrets given through ``${VAR}`` in the environment:

- ``smtp``: the SMTP plugin against a real aiosmtpd server on 127.0.0.1 that answers every
  ``AUTH`` with a 535 echoing the username, the password and the ``AUTH PLAIN`` argument
  (base64 of ``\\0user\\0password``), as some servers do;
- ``fake``: two :class:`~aicmo_gateway.testing.FakeProvider` s whose errors carry the same
  three, plus the URL-encoded password (one an ``AuthError``, which cools the provider down,
  the other ``Unavailable``).

Each world makes two calls (the second finds the providers cooling down), a dry run and a live
check, with loguru sinks at every level (``diagnose=True``, ``backtrace=True``) and an observer
plugin listening. Every surface is then one test id: reprs, outcomes, exceptions and their
tracebacks, log output per level, the state files, ``status()``/``explain()``, and every CLI
command run as a subprocess. None may contain the password, the username from the environment
or the ``AUTH PLAIN`` string.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import textwrap
import threading
import traceback
import types
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.smtp import SMTP as SMTPServerProtocol
from aiosmtpd.smtp import AuthResult, LoginPassword
from loguru import logger

from aicmo_gateway import (
    AuthError,
    Gateway,
    OutcomeError,
    ProviderType,
    Secret,
    Status,
    Unavailable,
    hookimpl,
)
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing import FakeProvider, profiles, run_virtual

USERNAME = "leaky-user@example.com"
PASSWORD = "Pa55-word/with+odd&chars"
PLAIN = base64.b64encode(f"\0{USERNAME}\0{PASSWORD}".encode()).decode()
URL_PASSWORD = "Pa55-word%2Fwith%2Bodd%26chars"
SECRETS = {"password": PASSWORD, "username": USERNAME, "AUTH PLAIN": PLAIN}
ENV = {"LEAK_USER": USERNAME, "LEAK_PASSWORD": PASSWORD}
MESSAGE = EmailMessage(
    to="ada@example.com", sender="shop@example.org", subject="Offer", text="Hello"
)
LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")
ECHO = f"535 5.7.8 {USERNAME} {PASSWORD} refused (PLAIN {PLAIN})"


# -- a server that echoes the login ---------------------------------------------------------


class _Accepting:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def _echo_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    assert isinstance(data, LoginPassword)
    plain = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
    text = f"535 5.7.8 {data.login.decode()} {data.password.decode()} refused ({mechanism} {plain})"
    return AuthResult(success=False, handled=False, message=text)


class EchoingSmtpServer:
    """aiosmtpd on 127.0.0.1 (plain, AUTH allowed without TLS) in its own thread and loop."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="echo-smtpd", daemon=True)
        self._sessions: list[SMTPServerProtocol] = []

    def _factory(self) -> SMTPServerProtocol:
        protocol = SMTPServerProtocol(
            _Accepting(),
            hostname="localhost",
            authenticator=_echo_login,
            auth_require_tls=False,
            loop=self._loop,
        )
        self._sessions.append(protocol)
        return protocol

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(self._factory, self.host, 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for protocol in self._sessions:
            if protocol.transport is not None:
                protocol.transport.close()
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def __enter__(self) -> EchoingSmtpServer:
        self._thread.start()
        assert self._ready.wait(5), "the echoing SMTP server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


# -- the fake world --------------------------------------------------------------------------


@attrs.frozen
class SecretFakeSettings:
    """A fake provider type holding a login, as a real one would."""

    name: str
    username: str
    password: Secret = attrs.field(converter=Secret)


def _fake_world() -> tuple[Registry, dict[str, FakeProvider]]:
    text = f"{ECHO}; form: password={URL_PASSWORD}"
    fakes = {
        "locked": FakeProvider(profiles.failing(lambda call: AuthError(text)), name="locked"),
        "down": FakeProvider(profiles.failing(lambda call: Unavailable(text)), name="down"),
    }

    def factory(*, name: str, username: str, password: Secret) -> FakeProvider:
        return fakes[name]

    provider_type = ProviderType(name="secret-fake", factory=factory, settings=SecretFakeSettings)

    @hookimpl
    def aicmo_email_senders() -> list[ProviderType]:
        return [provider_type]

    plugin = types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)
    return Registry.from_plugins({"secret-fakes": plugin, "observer": _observer()}), fakes


# -- what is watched -------------------------------------------------------------------------

OBSERVED: list[Any] = []


def _observer() -> types.SimpleNamespace:
    @hookimpl
    def aicmo_attempt_finished(capability: str, operation: str, attempt: Any) -> None:
        OBSERVED.append(attempt)

    @hookimpl
    def aicmo_call_finished(call: Any) -> None:
        OBSERVED.append(call)

    return types.SimpleNamespace(
        aicmo_attempt_finished=aicmo_attempt_finished, aicmo_call_finished=aicmo_call_finished
    )


class LogCapture:
    """One loguru sink per level, with diagnose and backtrace on, for the aicmo loggers."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {level: [] for level in LEVELS}
        self._ids: list[int] = []

    def __enter__(self) -> LogCapture:
        logger.enable("aicmo_gateway")
        logger.enable("aicmo_gateway_smtp")
        for level in LEVELS:
            self._ids.append(
                logger.add(
                    self.lines[level].append,
                    level=level,
                    diagnose=True,
                    backtrace=True,
                    colorize=False,
                    format="{level} {name}:{function}:{line} {message} | {extra}",
                )
            )
        return self

    def __exit__(self, *exc: object) -> None:
        for sink in self._ids:
            logger.remove(sink)
        logger.disable("aicmo_gateway")
        logger.disable("aicmo_gateway_smtp")


def _log_the_failure(outcome: Any) -> None:
    """As an application would: log the unwrapped error, with its traceback, at every level."""
    for level in LEVELS:
        try:
            outcome.unwrap()
        except OutcomeError as exc:
            logger.opt(exception=exc).log(level, "the call failed: {}", exc)


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


async def _exercise(gateway: Gateway) -> dict[str, str]:
    """Two calls, a dry run and a live check; every Python surface, as text."""
    OBSERVED.clear()
    with LogCapture() as logs:
        first = await gateway.email_sending.send(MESSAGE)
        later = await gateway.email_sending.send(MESSAGE)
        dry = await gateway.email_sending.send(MESSAGE, dry_run=True)
        checks = await gateway.check(timeout=5)
        _log_the_failure(first)
        _log_the_failure(later)
    assert first.status is Status.FAILED and later.status is Status.FAILED
    assert any(a.action == "skip" for a in later.attempts), later
    errors = []
    for outcome in (first, later):
        try:
            outcome.unwrap()
        except OutcomeError as exc:
            errors.append(exc)
    chain = gateway.chains["email_sending"]
    slot = chain.slots[0]
    await gateway.aclose()
    state = gateway.config.state_dir
    assert state is not None
    texts = {
        "repr(slot)": repr(slot),
        "repr(chain.slots)": repr(chain.slots),
        "repr(chain)": repr(chain) + repr(vars(chain)),
        "repr(chain.policy)": repr(chain.policy),
        "repr(gateway)": repr(gateway) + repr(vars(gateway)),
        "repr(gateway.config)": repr(gateway.config),
        "display_settings": repr([p.display_settings() for p in gateway.config.providers.values()]),
        "repr(provider)": repr(slot.provider),
        "repr(provider.settings)": repr(getattr(slot.provider, "settings", slot.provider)),
        "repr(slot.health)": repr(slot.health) + repr(slot.health.snapshot()),
        "repr(outcome)": repr(first),
        "outcome.reason": str(first.reason),
        "repr(outcome.attempts)": repr(first.attempts),
        "skipped attempts on a later call": repr([a for a in later.attempts if a.action == "skip"]),
        "later outcome.reason": str(later.reason),
        "dry-run plan": repr(dry) + repr(chain.plan()),
        "str(OutcomeError)": " ".join(str(e) for e in errors),
        "repr(OutcomeError)": " ".join(repr(e) for e in errors),
        "formatted traceback": "".join(_formatted(e) for e in errors),
        "live check": repr(checks),
        "status()": json.dumps(gateway.status(), default=str),
        "explain()": "\n".join(gateway.explain(o.call_id) for o in (first, later, dry)),
        "observers": repr(OBSERVED),
        "audit.jsonl": (state / "audit.jsonl").read_text(encoding="utf-8"),
        "health.json": (state / "health.json").read_text(encoding="utf-8"),
    }
    for level in LEVELS:
        texts[f"log {level}"] = "".join(logs.lines[level])
    texts["call ids"] = " ".join(o.call_id for o in (first, later))
    return texts


PYTHON_SURFACES = [
    "repr(slot)",
    "repr(chain.slots)",
    "repr(chain)",
    "repr(chain.policy)",
    "repr(gateway)",
    "repr(gateway.config)",
    "display_settings",
    "repr(provider)",
    "repr(provider.settings)",
    "repr(slot.health)",
    "repr(outcome)",
    "outcome.reason",
    "repr(outcome.attempts)",
    "skipped attempts on a later call",
    "later outcome.reason",
    "dry-run plan",
    "str(OutcomeError)",
    "repr(OutcomeError)",
    "formatted traceback",
    "live check",
    "status()",
    "explain()",
    "observers",
    "audit.jsonl",
    "health.json",
    *(f"log {level}" for level in LEVELS),
]
CLI_COMMANDS = {
    "status": ["status"],
    "status --json": ["status", "--json"],
    "explain": ["explain", "{call_id}"],
    "explain --json": ["explain", "{call_id}", "--json"],
    "explain (the skipped call)": ["explain", "{later_id}"],
    "doctor": ["doctor"],
    "doctor --live": ["doctor", "--live", "--timeout", "5"],
    "doctor --live --json": ["doctor", "--live", "--json", "--timeout", "5"],
    "-vv doctor --live": ["-vv", "doctor", "--live", "--timeout", "5"],
    "config check": ["config", "check"],
    "providers": ["providers"],
    "providers --json": ["providers", "--json"],
    "plugins": ["plugins"],
    "plugins --json": ["plugins", "--json"],
}
SURFACES = [
    *(f"smtp: {name}" for name in PYTHON_SURFACES),
    *(f"smtp: cli {name}" for name in CLI_COMMANDS),
    *(f"fake: {name}" for name in PYTHON_SURFACES),
]


# -- the worlds, run once --------------------------------------------------------------------


def _smtp_config(folder: Path, server: EchoingSmtpServer) -> Path:
    path = folder / "aicmo-gateway.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [gateway]
            state_dir = "state"

            [capabilities.email_sending]
            providers = ["mail"]

            [providers.mail]
            type = "smtp"
            host = "{server.host}"
            port = {server.port}
            security = "none"
            username = "${{LEAK_USER}}"
            password = "${{LEAK_PASSWORD}}"
            timeout = 5
            """
        ),
        encoding="utf-8",
    )
    return path


def _cli(args: list[str], config: Path) -> str:
    env = {
        **os.environ,
        **ENV,
        "AICMO_GATEWAY_CONFIG": str(config),
        "AICMO_GATEWAY_LOAD_PLUGINS": "aicmo-gateway-smtp",
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "aicmo_gateway.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        timeout=60,
        check=False,
    )
    text = done.stdout + done.stderr
    assert done.returncode in (0, 1), text
    assert "Traceback" not in text, text
    return text


@pytest.fixture(scope="module")
def smtp_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    import aicmo_gateway_smtp.plugin

    folder = tmp_path_factory.mktemp("smtp-leaks")
    with EchoingSmtpServer() as server:
        config = _smtp_config(folder, server)
        registry = Registry.from_plugins(
            {"smtp": aicmo_gateway_smtp.plugin, "observer": _observer()}
        )
        gateway = Gateway.from_config(config, registry=registry, env=ENV)
        texts = asyncio.run(_exercise(gateway))
        first_id, later_id = texts["call ids"].split()
        for name, args in CLI_COMMANDS.items():
            filled = [a.format(call_id=first_id, later_id=later_id) for a in args]
            texts[f"cli {name}"] = _cli(filled, config)
        yield texts


@pytest.fixture(scope="module")
def fake_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("fake-leaks")
    registry, _ = _fake_world()
    config = {
        "gateway": {"state_dir": str(folder / "state")},
        "capabilities": {"email_sending": {"providers": ["locked", "down"]}},
        "providers": {
            name: {
                "type": "secret-fake",
                "name": name,
                "username": "${LEAK_USER}",
                "password": "${LEAK_PASSWORD}",
            }
            for name in ("locked", "down")
        },
    }
    gateway = Gateway.from_config(config, registry=registry, env=ENV)
    return run_virtual(_exercise(gateway))


@pytest.fixture
def worlds(request: pytest.FixtureRequest) -> Callable[[str], dict[str, str]]:
    return lambda name: request.getfixturevalue(f"{name}_world")


# -- the matrix ------------------------------------------------------------------------------


def test_the_matrix_covers_at_least_40_surfaces() -> None:
    assert len(SURFACES) == len(set(SURFACES)) >= 40


async def test_the_server_really_echoes_the_login() -> None:
    from aicmo_gateway_smtp.plugin import smtp_sender

    with EchoingSmtpServer() as server:
        sender = smtp_sender(
            host=server.host,
            port=server.port,
            security="none",
            username=USERNAME,
            password=PASSWORD,
            timeout=5,
        )
        with pytest.raises(AuthError) as caught:
            await sender.send(MESSAGE)
        await sender.aclose()
    for form in SECRETS.values():
        assert form in str(caught.value)


@pytest.mark.parametrize("surface", SURFACES)
def test_no_secret_leaks_through(surface: str, worlds: Callable[[str], dict[str, str]]) -> None:
    world, _, name = surface.partition(": ")
    text = worlds(world)[name]
    assert text.strip(), f"{surface} showed nothing: the matrix would prove nothing there"
    for what, secret in SECRETS.items():
        assert secret not in text, f"the {what} leaked through {surface}:\n{text}"
    if world == "fake":
        assert URL_PASSWORD not in text, f"the URL-encoded password leaked through {surface}"


# -- HTTP services that echo the request -------------------------------------------------------


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with ``status`` and a JSON body echoing the whole request: the
    request line, every header (the credentials included) and the body."""

    status = 401

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        headers = dict(self.headers)
        text = f"refused {self.command} {self.path} headers={headers} body={body}"
        answer = json.dumps(
            {"message": text, "error": repr(headers), "request": {"headers": headers}}
        ).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(params=[401, 422, 500])
def echoing_service(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Echo", (_EchoHandler,), {"status": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


HTTP_SECRETS = {
    "RESEND_KEY": "re_Echoed1234567890abcdef",
    "APOLLO_KEY": "apolloEchoedKey987654321",
    "HOOK_SECRET": "whsec_" + base64.b64encode(b"echoed-signing-key-32-bytes-long").decode(),
    "HOOK_HEADER": "n8n-header-echoed-abcdef",
}


async def test_http_services_echoing_the_request_leak_no_credential(echoing_service, tmp_path):
    """Resend, Apollo and a webhook endpoint answer 401, 422 or 500 with the whole request
    echoed (the ``Authorization``, ``x-api-key`` and custom header values, the URL's secret
    path): no surface shows a credential, nor the webhook URL's path."""
    import aicmo_gateway_apollo.plugin
    import aicmo_gateway_resend.plugin
    import aicmo_gateway_webhooks.plugin

    from aicmo_gateway.ports import Lead, WebhookEvent

    hook_path = "/hooks/catch/123456/zap-secret-path-987/"
    env = {**HTTP_SECRETS, "HOOK_URL": echoing_service + hook_path}
    registry = Registry.from_plugins(
        {
            "resend": aicmo_gateway_resend.plugin,
            "apollo": aicmo_gateway_apollo.plugin,
            "webhooks": aicmo_gateway_webhooks.plugin,
        }
    )
    config = {
        "gateway": {"state_dir": str(tmp_path / "state")},
        "capabilities": {
            "email_sending": {"providers": ["resend"]},
            "lead_enrichment": {"providers": ["apollo"]},
            "webhook_dispatch": {"providers": ["hook"]},
        },
        "providers": {
            "resend": {"type": "resend", "api_key": "${RESEND_KEY}", "base_url": echoing_service},
            "apollo": {"type": "apollo", "api_key": "${APOLLO_KEY}", "base_url": echoing_service},
            "hook": {
                "type": "webhook",
                "url": "${HOOK_URL}",
                "secret": "${HOOK_SECRET}",
                "headers": {"X-N8N-Auth": "${HOOK_HEADER}"},
                "allow_private": True,
            },
        },
    }
    gateway = Gateway.from_config(config, registry=registry, env=env)
    with LogCapture() as logs:
        logger.enable("aicmo_gateway_resend")
        logger.enable("aicmo_gateway_apollo")
        logger.enable("aicmo_gateway_webhooks")
        outcomes = [
            await gateway.email_sending.send(MESSAGE),
            await gateway.lead_enrichment.enrich(Lead(email="ada@example.com")),
            await gateway.webhook_dispatch.dispatch(WebhookEvent(type="lead.created", data={})),
        ]
        checks = await gateway.check(timeout=5)
        await gateway.aclose()
    for name in ("aicmo_gateway_resend", "aicmo_gateway_apollo", "aicmo_gateway_webhooks"):
        logger.disable(name)
    assert all(o.status is not Status.OK for o in outcomes), outcomes
    errors = []
    for outcome in outcomes:
        try:
            outcome.unwrap()
        except OutcomeError as exc:
            errors.append(_formatted(exc))
    surfaces = {
        "outcomes": repr(outcomes),
        "tracebacks": "".join(errors),
        "checks": repr(checks),
        "explain()": "\n".join(gateway.explain(o.call_id) for o in outcomes),
        "providers": repr(
            [slot.provider for chain in gateway.chains.values() for slot in chain.slots]
        ),
        "audit.jsonl": (tmp_path / "state" / "audit.jsonl").read_text(encoding="utf-8"),
        "health.json": (tmp_path / "state" / "health.json").read_text(encoding="utf-8"),
        "logs": "".join(line for level in LEVELS for line in logs.lines[level]),
    }
    assert "refused" in surfaces["outcomes"]  # the echo did reach the outcomes
    for surface, text in surfaces.items():
        for name, secret in {**HTTP_SECRETS, "HOOK_URL path": hook_path}.items():
            assert secret not in text, f"{name} leaked through {surface}"


# -- observers, closing, settings, the store ---------------------------------------------------

ECHO_KEY = "sk-live-echoed-0123456789"


@attrs.frozen
class _EchoKeySettings:
    api_key: Secret = attrs.field(converter=Secret)


class _EchoingVerifier:
    """Returns the key it was given (a service echoing the request) and fails to close with
    it in its message and in the message of the exception that caused that."""

    def __init__(self, api_key: Secret) -> None:
        self.api_key = api_key

    async def verify(self, address: str) -> Any:
        return {"address": address, "echo": f"key={self.api_key.reveal()}"}

    async def aclose(self) -> None:
        try:
            raise ConnectionError(f"the server said: bad key {self.api_key.reveal()}")
        except ConnectionError as exc:
            raise RuntimeError(f"closing with {self.api_key.reveal()} failed") from exc


def _echo_key_registry(*, observer_raises: bool) -> Registry:
    @hookimpl
    def aicmo_email_verifiers() -> list[ProviderType]:
        return [ProviderType(name="echo-key", factory=_EchoingVerifier, settings=_EchoKeySettings)]

    @hookimpl
    def aicmo_call_finished(call: Any) -> None:
        raise ValueError(f"observer broke on {call.outcome.value}")

    plugins: dict[str, Any] = {
        "echo-key": types.SimpleNamespace(aicmo_email_verifiers=aicmo_email_verifiers)
    }
    if observer_raises:
        plugins["broken-observer"] = types.SimpleNamespace(aicmo_call_finished=aicmo_call_finished)
    return Registry.from_plugins(plugins)


def _echo_key_gateway(tmp_path: Path, **gateway: Any) -> Gateway:
    return Gateway.from_config(
        {
            "gateway": {"state_dir": str(tmp_path / "state"), **gateway},
            "capabilities": {"email_verification": {"providers": ["echo"]}},
            "providers": {"echo": {"type": "echo-key", "api_key": "${ECHO_KEY}"}},
        },
        registry=_echo_key_registry(observer_raises=True),
        env={"ECHO_KEY": ECHO_KEY, "STORE_URL": f"sqlite:///{tmp_path / 'fleet-ZX81.db'}"},
    )


async def test_a_raising_observer_logs_no_secret_even_with_diagnose(tmp_path):
    """The observer's traceback is logged as text, scrubbed: a sink with ``diagnose=True``
    cannot print the call record (whose value echoes the key) from the frames' variables."""
    gateway = _echo_key_gateway(tmp_path)
    with LogCapture() as logs:
        outcome = await gateway.email_verification.verify("ada@example.com")
        await gateway.aclose()
    assert outcome.status is Status.OK and ECHO_KEY in repr(outcome.value)
    text = "".join(logs.lines["TRACE"])
    assert "observer aicmo_call_finished of plugin broken-observer" in text
    assert "ValueError: observer broke on" in text  # the traceback is there, as text
    assert ECHO_KEY not in text


async def test_a_provider_failing_to_close_is_logged_scrubbed_and_the_close_goes_on(tmp_path):
    gateway = _echo_key_gateway(tmp_path)
    await gateway.email_verification.verify("ada@example.com")
    with LogCapture() as logs:
        await gateway.aclose()  # does not raise the provider's error (its text holds the key)
    assert gateway.closed
    text = "".join(logs.lines["TRACE"])
    assert "closing provider echo failed; ignored: RuntimeError: closing with ********" in text
    assert ECHO_KEY not in text


async def test_a_store_given_as_a_reference_is_shown_as_the_reference(tmp_path):
    gateway = _echo_key_gateway(tmp_path, store="${STORE_URL}")
    await gateway.email_verification.verify("ada@example.com")
    assert gateway.store_state()["store"] == "${STORE_URL}"
    await gateway.aclose()
    health = (tmp_path / "state" / "health.json").read_text(encoding="utf-8")
    assert '"store": "${STORE_URL}"' in health and "fleet-ZX81" not in health


def test_the_cli_logs_tracebacks_without_the_frames_variables():
    """The command line's handler is added with ``diagnose=False``."""
    from aicmo_gateway.cli._logging import configure_logging, restore_logging

    configure_logging(2)
    try:
        logger.debug("switch loguru's handlers")
        from aicmo_gateway.cli import _logging

        (handler_id,) = _logging._HANDLER
        handler = logger._core.handlers[handler_id]  # type: ignore[attr-defined]
        assert handler._exception_formatter._diagnose is False
    finally:
        restore_logging()


def test_imap_settings_keep_the_username_out_of_their_repr():
    from aicmo_gateway_imap.settings import ImapSettings

    settings = ImapSettings(username=USERNAME, password=PASSWORD, host="imap.example.com")
    assert USERNAME not in repr(settings) and PASSWORD not in repr(settings)


def test_an_outbox_given_as_a_reference_that_cannot_open_is_named_by_the_reference(tmp_path):
    from aicmo_gateway import ConfigError

    hidden = tmp_path / "no-such-folder-QQ9" / "outbox.db"
    with pytest.raises(ConfigError) as caught:
        Gateway.from_config(
            {
                "gateway": {"outbox": "${OUTBOX_URL}"},
                "capabilities": {"email_verification": {"providers": ["echo"]}},
                "providers": {"echo": {"type": "echo-key", "api_key": "${ECHO_KEY}"}},
            },
            registry=_echo_key_registry(observer_raises=False),
            env={"ECHO_KEY": ECHO_KEY, "OUTBOX_URL": f"sqlite:///{hidden}"},
        )
    text = _formatted(caught.value)
    assert "cannot open the outbox ${OUTBOX_URL}" in text
    assert "no-such-folder-QQ9" not in text and ECHO_KEY not in text
