"""The noop providers perform nothing, say so, and answer reads honestly empty."""

from __future__ import annotations

import pytest

from aicmo_gateway.builtin.noop import (
    NoopCrmSyncer,
    NoopEmailSender,
    NoopEmailVerifier,
    NoopLeadEnricher,
    NoopReplyFetcher,
    NoopSocialPoster,
    NoopWebhookDispatcher,
)
from aicmo_gateway.ports import (
    Contact,
    CrmSyncer,
    EmailMessage,
    EmailSender,
    EmailVerifier,
    Engagement,
    Lead,
    LeadEnricher,
    ReplyFetcher,
    SocialPost,
    SocialPoster,
    Verdict,
    WebhookDispatcher,
    WebhookEvent,
)

NOOPS = [
    (NoopEmailSender, EmailSender),
    (NoopReplyFetcher, ReplyFetcher),
    (NoopCrmSyncer, CrmSyncer),
    (NoopLeadEnricher, LeadEnricher),
    (NoopEmailVerifier, EmailVerifier),
    (NoopSocialPoster, SocialPoster),
    (NoopWebhookDispatcher, WebhookDispatcher),
]


@pytest.mark.parametrize(("provider", "protocol"), NOOPS)
def test_each_noop_provider_implements_its_port(provider: type, protocol: type) -> None:
    assert isinstance(provider(), protocol)


@pytest.mark.parametrize(("provider", "protocol"), NOOPS)
def test_each_noop_provider_passes_its_check(provider: type, protocol: type) -> None:
    assert provider().check() is None


def test_the_noop_sender_does_not_claim_to_have_sent() -> None:
    message = EmailMessage(to="a@example.com", subject="Hi", text="x", message_id="<m@x.com>")
    receipt = NoopEmailSender().send(message)
    assert receipt.performed is False
    assert receipt.accepted == ()
    assert receipt.message_id == "<m@x.com>"


def test_the_noop_fetcher_finds_no_replies_and_keeps_the_cursor() -> None:
    batch = NoopReplyFetcher().fetch_replies("cursor-7")
    assert batch.replies == ()
    assert batch.cursor == "cursor-7"
    assert batch.has_more is False


def test_the_noop_crm_does_not_claim_to_have_stored_a_contact() -> None:
    record = NoopCrmSyncer().upsert_contact(Contact(email="a@example.com"))
    assert record.performed is False
    assert record.kind == "contact"


def test_the_noop_crm_batch_answers_one_unperformed_record_per_contact() -> None:
    contacts = [Contact(email="a@example.com"), Contact(email="b@example.com")]
    records = NoopCrmSyncer().upsert_contacts(contacts)
    assert [r.performed for r in records] == [False, False]


def test_the_noop_crm_does_not_claim_to_have_logged_an_engagement() -> None:
    record = NoopCrmSyncer().log_engagement(
        Engagement(contact_email="a@example.com", kind="email_sent")
    )
    assert record.performed is False
    assert record.kind == "engagement"


def test_the_noop_enricher_finds_nothing() -> None:
    assert NoopLeadEnricher().enrich(Lead(email="a@example.com")).found is False


def test_the_noop_verifier_says_it_does_not_know() -> None:
    verification = NoopEmailVerifier().verify("a@example.com")
    assert verification.verdict is Verdict.UNKNOWN
    assert verification.reason == "the noop verifier checks nothing"


def test_the_noop_poster_does_not_claim_to_have_published() -> None:
    receipt = NoopSocialPoster().post(SocialPost(text="hello"))
    assert receipt.performed is False
    assert receipt.post_id is None


def test_the_noop_dispatcher_does_not_claim_to_have_delivered() -> None:
    receipt = NoopWebhookDispatcher().dispatch(WebhookEvent(type="lead.replied", id="evt-1"))
    assert receipt.performed is False
    assert receipt.status_code is None
