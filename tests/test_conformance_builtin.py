"""The built-in providers pass the core's conformance suites.

Maildir's service is the file system: :class:`FailingDisk` makes the next file it creates (the
sender) or folder it lists (the fetcher) fail as a disk does (permission denied, disk quota
exceeded, disk full, I/O error). The SQLite CRM works on a local file whose failures SQLite
reports itself, so none is scripted for it (:class:`OfflineService`); ``noop`` simulates
(``simulates = True``): its records say ``performed=False`` and its reads find nothing.
"""

from __future__ import annotations

import errno
import mailbox
import os
from pathlib import Path

import pytest

from aicmo_gateway.builtin.maildir import MaildirReplyFetcher, MaildirSender
from aicmo_gateway.builtin.noop import (
    NoopCrmSyncer,
    NoopEmailVerifier,
    NoopLeadEnricher,
    NoopSocialPoster,
    NoopWebhookDispatcher,
)
from aicmo_gateway.builtin.sqlite_crm import SqliteCrm
from aicmo_gateway.ports import Lead, Verdict
from aicmo_gateway.testing import (
    CrmSyncConformance,
    EmailSenderConformance,
    EmailVerificationConformance,
    LeadEnrichmentConformance,
    ReplyFetcherConformance,
    SocialPostingConformance,
    WebhookDispatchConformance,
)
from aicmo_gateway.testing.conformance import OfflineService

BUILTIN = "aicmo_gateway.builtin.plugin"


class Local:
    plugin_module = BUILTIN

    @pytest.fixture
    def service(self):
        return OfflineService()

    @pytest.fixture
    def secrets(self):
        return []


class FailingDisk:
    """The file system under one folder, failing the next ``os.open`` or ``os.listdir`` there
    with the ``OSError`` a disk gives for each failure of the suites."""

    #: the error number for each failure; a local file system has no rate limit, no input of
    #: its own to reject, and no request left without an answer
    ERRNO = {
        "bad_credentials": errno.EACCES,
        "quota_spent": errno.EDQUOT,
        "service_down": errno.ENOSPC,
    }

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, *, reading: bool) -> None:
        self.root = str(root)
        self.pending: int | None = None
        name = "listdir" if reading else "open"
        original = getattr(os, name)
        if reading:
            # a disk failing under a read reports an I/O error, not a full disk
            self.ERRNO = {**self.ERRNO, "service_down": errno.EIO}
            del self.ERRNO["quota_spent"]  # reading uses no quota

        def failing(path, *args, **kwargs):
            if self.pending is not None and os.fspath(path).startswith(self.root):
                number, self.pending = self.pending, None
                raise OSError(number, os.strerror(number), os.fspath(path))
            return original(path, *args, **kwargs)

        monkeypatch.setattr(os, name, failing)

    #: why a disk cannot produce the other failures
    CANNOT = {
        "rate_limited": "a local disk asks no one to slow down",
        "quota_spent": "reading uses no disk quota",
        "invalid_input": "the disk takes any bytes; the message is checked before writing",
        "unknown_outcome": "a local call always returns an answer",
    }

    def fail_next(self, kind: str) -> None:
        if kind not in self.ERRNO:
            raise NotImplementedError(self.CANNOT[kind])
        self.pending = self.ERRNO[kind]


class TestMaildirSenderConformance(Local, EmailSenderConformance):
    @pytest.fixture
    def service(self, tmp_path, monkeypatch):
        return FailingDisk(tmp_path / "Maildir", monkeypatch, reading=False)

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


class TestMaildirReplyFetcherConformance(Local, ReplyFetcherConformance):
    @pytest.fixture
    def service(self, tmp_path, monkeypatch):
        return FailingDisk(tmp_path / "In", monkeypatch, reading=True)

    @pytest.fixture
    def provider(self, tmp_path):
        mailbox.Maildir(tmp_path / "In", create=True)
        return MaildirReplyFetcher(path=tmp_path / "In")

    @pytest.fixture
    def deliver(self, tmp_path):
        box = mailbox.Maildir(tmp_path / "In", create=False)
        return lambda raw: box.add(raw)


class TestSqliteCrmConformance(Local, CrmSyncConformance):
    @pytest.fixture
    def provider(self, tmp_path):
        return SqliteCrm(path=tmp_path / "crm.sqlite3")


class Noop(Local):
    simulates = True


class TestNoopCrmConformance(Noop, CrmSyncConformance):
    @pytest.fixture
    def provider(self):
        return NoopCrmSyncer()


class TestNoopEnricherConformance(Noop, LeadEnrichmentConformance):
    known_lead = Lead(email="ada@example.com")
    unknown_lead = Lead(email="nobody@example.com")

    @pytest.fixture
    def provider(self):
        return NoopLeadEnricher()


class TestNoopVerifierConformance(Noop, EmailVerificationConformance):
    verdicts = {"ada@example.com": Verdict.DELIVERABLE}

    @pytest.fixture
    def provider(self):
        return NoopEmailVerifier()


class TestNoopPosterConformance(Noop, SocialPostingConformance):
    @pytest.fixture
    def provider(self):
        return NoopSocialPoster()


class TestNoopDispatcherConformance(Noop, WebhookDispatchConformance):
    @pytest.fixture
    def provider(self):
        return NoopWebhookDispatcher()
