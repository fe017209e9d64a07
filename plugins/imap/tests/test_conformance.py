"""The core's reply-fetching conformance suite, against the real IMAP server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aicmo_gateway.testing.conformance import ReplyFetcherConformance


class TestImapReplyFetcherConformance(ReplyFetcherConformance):
    @pytest.fixture
    def provider(self, make_fetcher: Any) -> Any:
        return make_fetcher()

    @pytest.fixture
    def deliver(self, mailroom: Any) -> Callable[[bytes], None]:
        return mailroom.deliver


class TestImapOverStarttlsConformance(ReplyFetcherConformance):
    @pytest.fixture
    def provider(self, make_fetcher: Any, imap_server: Any) -> Any:
        return make_fetcher(security="starttls", ca_file=str(imap_server.ca_file))

    @pytest.fixture
    def deliver(self, mailroom: Any) -> Callable[[bytes], None]:
        return mailroom.deliver
