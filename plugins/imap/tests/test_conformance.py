"""The core's reply-fetching conformance suite, against the real IMAP server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aicmo_gateway.testing.conformance import OfflineService, ReplyFetcherConformance

from .conftest import PASSWORD


class Imap:
    """The real server scripts no failure yet (test_errors_and_tls.py covers them one by one)."""

    plugin_module = "aicmo_gateway_imap.plugin"
    heavy_modules = ("imapclient",)

    @pytest.fixture
    def service(self) -> OfflineService:
        return OfflineService()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [PASSWORD]


class TestImapReplyFetcherConformance(Imap, ReplyFetcherConformance):
    @pytest.fixture
    def provider(self, make_fetcher: Any) -> Any:
        return make_fetcher()

    @pytest.fixture
    def deliver(self, mailroom: Any) -> Callable[[bytes], None]:
        return mailroom.deliver


class TestImapOverStarttlsConformance(Imap, ReplyFetcherConformance):
    @pytest.fixture
    def provider(self, make_fetcher: Any, imap_server: Any) -> Any:
        return make_fetcher(security="starttls", ca_file=str(imap_server.ca_file))

    @pytest.fixture
    def deliver(self, mailroom: Any) -> Callable[[bytes], None]:
        return mailroom.deliver
