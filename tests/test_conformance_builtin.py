"""The built-in providers pass the core's conformance suites.

Maildir and the SQLite CRM work on local files, so no failure can be scripted for them
(:class:`OfflineService`); ``noop`` simulates (``simulates = True``): its records say
``performed=False`` and its reads find nothing.
"""

from __future__ import annotations

import mailbox

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


class TestMaildirSenderConformance(Local, EmailSenderConformance):
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
