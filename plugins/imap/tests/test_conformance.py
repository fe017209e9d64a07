"""The core's reply-fetching conformance suite, against the real IMAP server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aicmo_gateway.testing.conformance import ReplyFetcherConformance

from .conftest import PASSWORD, ScriptedForwarder


class Imap:
    """The real server; behind a relay that scripts the suite's failures (conftest.py) in the
    tests that script them (those asking for ``service``). The relay's threads share the
    interpreter with the test, so the other tests, which time heavy parsing, connect directly.
    """

    plugin_module = "aicmo_gateway_imap.plugin"
    heavy_modules = ("imapclient",)

    @pytest.fixture
    def service(self, scripted_server: ScriptedForwarder) -> ScriptedForwarder:
        return scripted_server

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [PASSWORD]

    @pytest.fixture
    def imap_port(self, request: pytest.FixtureRequest, imap_server: Any) -> int:
        if "service" in request.fixturenames:
            return int(request.getfixturevalue("service").port)
        return int(imap_server.port)

    @pytest.fixture
    def deliver(self, mailroom: Any) -> Callable[[bytes], None]:
        return mailroom.deliver


class TestImapReplyFetcherConformance(Imap, ReplyFetcherConformance):
    @pytest.fixture
    def provider(self, make_fetcher: Any, imap_port: int) -> Any:
        return make_fetcher(port=imap_port)


class TestImapOverStarttlsConformance(Imap, ReplyFetcherConformance):
    @pytest.fixture
    def service(self, scripted_tls_server: ScriptedForwarder) -> ScriptedForwarder:
        return scripted_tls_server

    @pytest.fixture
    def provider(self, make_fetcher: Any, imap_server: Any, imap_port: int) -> Any:
        return make_fetcher(port=imap_port, security="starttls", ca_file=str(imap_server.ca_file))
