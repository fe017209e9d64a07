"""The built-in Maildir providers pass the core's conformance suites."""

from __future__ import annotations

import mailbox

import pytest

from aicmo_gateway.builtin.maildir import MaildirReplyFetcher, MaildirSender
from aicmo_gateway.testing import EmailSenderConformance, ReplyFetcherConformance


class TestMaildirSenderConformance(EmailSenderConformance):
    @pytest.fixture
    def provider(self, tmp_path):
        return MaildirSender(path=tmp_path / "Maildir")

    @pytest.fixture
    def delivered(self, tmp_path):
        def read():
            box = mailbox.Maildir(tmp_path / "Maildir", create=False)
            keys = sorted(box.keys())
            return [box.get_bytes(k) for k in keys]

        return read


class TestMaildirReplyFetcherConformance(ReplyFetcherConformance):
    @pytest.fixture
    def provider(self, tmp_path):
        mailbox.Maildir(tmp_path / "In", create=True)
        return MaildirReplyFetcher(path=tmp_path / "In")

    @pytest.fixture
    def deliver(self, tmp_path):
        box = mailbox.Maildir(tmp_path / "In", create=False)
        return lambda raw: box.add(raw)
