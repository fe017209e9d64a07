"""The enrichment and verification records: who a lead is, what was found, verdicts."""

from __future__ import annotations

import math

import attrs
import pytest

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Enrichment, Lead, Verdict, Verification

# -- Lead: the identification rule -----------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "ann@example.com"},
        {"linkedin_url": "https://www.linkedin.com/in/ann"},
        {"first_name": "Ann", "company": "Acme"},
        {"last_name": "Lee", "domain": "acme.com"},
        {"first_name": "Ann", "last_name": "Lee", "company": "Acme", "domain": "acme.com"},
    ],
)
def test_a_lead_with_enough_to_identify_a_person_is_accepted(fields):
    lead = Lead(**fields)
    # what was given is kept as given (these values are already canonical); the rest is None
    assert attrs.asdict(lead) == {field.name: None for field in attrs.fields(Lead)} | fields


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"first_name": "Ann"},
        {"first_name": "Ann", "last_name": "Lee"},
        {"company": "Acme", "domain": "acme.com"},
        {"first_name": "  ", "company": "Acme"},
        {"first_name": "Ann", "company": ""},
        {"linkedin_url": "   "},
    ],
)
def test_a_lead_without_enough_to_identify_a_person_is_refused(fields):
    with pytest.raises(InvalidInput, match="not enough to identify a person") as info:
        Lead(**fields)
    assert info.value.field == "Lead"
    assert "pass email=, linkedin_url=, or a first/last name together with" in str(info.value)


def test_a_lead_email_is_kept_as_the_bare_address():
    assert Lead(email="Ann Lee <Ann@Example.com>").email == "Ann@Example.com"


def test_a_lead_with_a_malformed_email_is_refused_naming_the_field():
    with pytest.raises(InvalidInput, match="not a valid email address") as info:
        Lead(email="ann@")
    assert info.value.field == "Lead.email"


@pytest.mark.parametrize(
    ("given_", "domain"),
    [
        ("acme.com", "acme.com"),
        ("ACME.com", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("https://www.acme.com/about?x=1", "acme.com"),
        ("http://shop.acme.co.uk:8080/", "shop.acme.co.uk"),
        ("  acme.com  ", "acme.com"),
        ("bücher.de", "bücher.de"),
    ],
)
def test_a_lead_domain_is_reduced_to_the_host_name(given_, domain):
    assert Lead(first_name="Ann", domain=given_).domain == domain


@pytest.mark.parametrize("bad", ["acme", "acme .com", "", "https://", "acme..com", "-acme.com"])
def test_a_malformed_lead_domain_is_refused_with_an_example(bad):
    with pytest.raises(InvalidInput, match=r"pass a name such as 'example\.com'") as info:
        Lead(first_name="Ann", domain=bad)
    assert info.value.field == "Lead.domain"


def test_a_lead_is_frozen():
    lead = Lead(email="ann@example.com")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        lead.email = "bob@example.com"  # type: ignore[misc]


# -- Enrichment --------------------------------------------------------------------


def test_an_enrichment_that_found_nothing_is_empty():
    assert Enrichment(found=False).empty is True
    assert Enrichment(found=True, title="CTO").empty is False


@pytest.mark.parametrize("confidence", [0, 0.0, 0.5, 1, 1.0, None])
def test_a_confidence_between_zero_and_one_is_accepted(confidence):
    result = Enrichment(found=True, confidence=confidence)
    assert result.confidence == confidence
    if confidence is not None:
        assert isinstance(result.confidence, float)


@pytest.mark.parametrize("confidence", [-0.01, 1.01, 87, math.nan, math.inf])
def test_a_confidence_outside_zero_to_one_is_refused(confidence):
    with pytest.raises(InvalidInput, match=r"outside 0\.\.1") as info:
        Enrichment(found=True, confidence=confidence)
    assert info.value.field == "Enrichment.confidence"
    assert "scale the provider's score" in str(info.value)


@pytest.mark.parametrize("confidence", ["0.9", True])
def test_a_confidence_that_is_not_a_number_is_refused(confidence):
    with pytest.raises(InvalidInput, match="expected a number between 0 and 1"):
        Enrichment(found=True, confidence=confidence)


def test_enrichment_attributes_are_read_only():
    result = Enrichment(found=True, attributes={"seniority": "senior"})
    with pytest.raises(TypeError):
        result.attributes["seniority"] = "junior"  # type: ignore[index]


def test_an_enrichment_is_frozen():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Enrichment(found=True).found = False  # type: ignore[misc]


# -- Verification -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "verdict"),
    [
        ("deliverable", Verdict.DELIVERABLE),
        ("UNDELIVERABLE", Verdict.UNDELIVERABLE),
        (" risky ", Verdict.RISKY),
        (Verdict.UNKNOWN, Verdict.UNKNOWN),
    ],
)
def test_a_verdict_is_converted_to_the_enum(given_, verdict):
    result = Verification(address="ann@example.com", verdict=given_)
    assert result.verdict is verdict


@pytest.mark.parametrize("bad", ["valid", "catch_all", "", None, 1])
def test_an_unknown_verdict_is_refused_listing_the_valid_ones(bad):
    with pytest.raises(InvalidInput, match="is not a verdict") as info:
        Verification(address="ann@example.com", verdict=bad)
    assert info.value.field == "Verification.verdict"
    for verdict in Verdict:
        assert repr(verdict.value) in str(info.value)


def test_a_verdict_compares_equal_to_its_string():
    assert Verification(address="a@example.com", verdict="risky").verdict == "risky"


def test_verification_checks_are_read_only():
    result = Verification(address="a@example.com", verdict="deliverable", checks={"mx": True})
    with pytest.raises(TypeError):
        result.checks["mx"] = False  # type: ignore[index]


def test_a_verification_is_frozen():
    result = Verification(address="a@example.com", verdict="deliverable")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.verdict = Verdict.RISKY  # type: ignore[misc]
