"""The CRM records: a contact is identified by its bare, lower-cased email address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import attrs
import pytest

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Contact, CrmRecord, Engagement

# -- Contact -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "stored"),
    [
        ("ann@example.com", "ann@example.com"),
        ("Ann@Example.COM", "ann@example.com"),
        ("Ann Lee <Ann.Lee@Example.com>", "ann.lee@example.com"),
        ('"Lee, Ann" <ann@example.com>', "ann@example.com"),
        ("  ann@example.com ", "ann@example.com"),
        ("Jörg <JÖRG@Bücher.de>", "jörg@bücher.de"),
    ],
)
def test_a_contact_email_is_stored_as_the_bare_lower_cased_address(given_, stored):
    assert Contact(email=given_).email == stored


@pytest.mark.parametrize("bad", ["ann", "ann@localhost", "ann@@example.com", "", "a b@example.com"])
def test_a_contact_with_a_malformed_email_is_refused_naming_the_field(bad):
    with pytest.raises(InvalidInput, match="use the form") as info:
        Contact(email=bad)
    assert info.value.field == "Contact.email"
    assert str(info.value).startswith("Contact.email: ")


def test_the_same_person_spelt_differently_is_the_same_contact():
    assert Contact(email="Ann <ANN@example.com>") == Contact(email="ann@example.com")


def test_a_contact_name_must_be_text():
    with pytest.raises(InvalidInput, match=r"Contact\.first_name: expected a string, got int"):
        Contact(email="ann@example.com", first_name=7)


def test_a_single_tag_string_is_one_tag():
    assert Contact(email="ann@example.com", tags="vip").tags == ("vip",)


def test_tags_from_a_list_are_kept_in_order():
    assert Contact(email="ann@example.com", tags=["vip", "2024"]).tags == ("vip", "2024")


def test_a_non_string_tag_is_refused_naming_its_position():
    with pytest.raises(InvalidInput, match=r"Contact\.tags\[1\]: expected a string, got int"):
        Contact(email="ann@example.com", tags=["vip", 3])


def test_contact_attributes_are_a_read_only_copy():
    source = {"plan": "pro"}
    contact = Contact(email="ann@example.com", attributes=source)
    source["plan"] = "free"
    assert contact.attributes["plan"] == "pro"
    with pytest.raises(TypeError):
        contact.attributes["plan"] = "free"  # type: ignore[index]


def test_contact_attributes_must_be_a_mapping_with_string_keys():
    with pytest.raises(InvalidInput, match=r"Contact\.attributes: expected a mapping, got list"):
        Contact(email="ann@example.com", attributes=[("plan", "pro")])
    with pytest.raises(InvalidInput, match=r"Contact\.attributes: keys must be strings"):
        Contact(email="ann@example.com", attributes={1: "pro"})


def test_a_contact_is_frozen():
    contact = Contact(email="ann@example.com")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        contact.email = "bob@example.com"  # type: ignore[misc]


def test_a_contact_is_hashable_even_with_attributes():
    contact = Contact(email="ann@example.com", attributes={"plan": "pro"})
    assert hash(contact) == hash(Contact(email="ann@example.com", attributes={"plan": "free"}))


# -- Engagement ----------------------------------------------------------------


def test_an_engagement_contact_email_is_bare_and_lower_cased():
    engagement = Engagement(contact_email="Ann <Ann@Example.com>", kind="email_sent")
    assert engagement.contact_email == "ann@example.com"


def test_an_engagement_with_a_malformed_contact_email_is_refused():
    with pytest.raises(InvalidInput) as info:
        Engagement(contact_email="nobody", kind="note")
    assert info.value.field == "Engagement.contact_email"


@pytest.mark.parametrize("kind", ["email_sent", "email_reply", "meeting", "call", "note", "x1"])
def test_snake_case_kinds_are_accepted(kind):
    assert Engagement(contact_email="ann@example.com", kind=kind).kind == kind


@pytest.mark.parametrize(
    "kind", ["Email Sent", "email-sent", "1call", "", "_note", "a" * 41, "Meeting", None]
)
def test_a_malformed_kind_is_refused_with_examples(kind):
    with pytest.raises(InvalidInput, match="use a short snake_case word") as info:
        Engagement(contact_email="ann@example.com", kind=kind)
    assert info.value.field == "Engagement.kind"
    assert "'email_sent'" in str(info.value)


def test_occurred_at_defaults_to_now_in_utc():
    before = datetime.now(UTC)
    engagement = Engagement(contact_email="ann@example.com", kind="note")
    after = datetime.now(UTC)
    assert engagement.occurred_at.utcoffset() == timedelta(0)
    assert before <= engagement.occurred_at <= after


def test_a_naive_occurred_at_is_refused_with_the_fix():
    with pytest.raises(InvalidInput, match="no timezone") as info:
        Engagement(
            contact_email="ann@example.com",
            kind="note",
            occurred_at=datetime(2024, 5, 1, 12, 0),
        )
    assert info.value.field == "Engagement.occurred_at"
    assert "datetime.now(timezone.utc)" in str(info.value)


def test_an_aware_occurred_at_in_any_timezone_is_kept():
    paris = timezone(timedelta(hours=2))
    when = datetime(2024, 5, 1, 12, 0, tzinfo=paris)
    engagement = Engagement(contact_email="ann@example.com", kind="call", occurred_at=when)
    assert engagement.occurred_at == when


def test_an_occurred_at_of_none_is_refused():
    with pytest.raises(InvalidInput, match="got None") as info:
        Engagement(contact_email="ann@example.com", kind="note", occurred_at=None)
    assert "leave the argument out" in str(info.value)


def test_an_occurred_at_that_is_not_a_datetime_is_refused():
    with pytest.raises(InvalidInput, match="expected a datetime, got str"):
        Engagement(contact_email="ann@example.com", kind="note", occurred_at="2024-05-01")


def test_a_tzinfo_without_an_offset_counts_as_naive():
    class NoOffset(tzinfo):
        def utcoffset(self, dt):
            return None

    with pytest.raises(InvalidInput, match="no timezone"):
        Engagement(
            contact_email="ann@example.com",
            kind="note",
            occurred_at=datetime(2024, 5, 1, tzinfo=NoOffset()),
        )


def test_engagement_metadata_is_read_only():
    engagement = Engagement(contact_email="ann@example.com", kind="note", metadata={"a": 1})
    with pytest.raises(TypeError):
        engagement.metadata["a"] = 2  # type: ignore[index]


def test_the_engagement_body_is_not_in_the_repr():
    engagement = Engagement(contact_email="ann@example.com", kind="note", body="private words")
    assert "private words" not in repr(engagement)


def test_an_engagement_is_frozen():
    engagement = Engagement(contact_email="ann@example.com", kind="note")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        engagement.kind = "call"  # type: ignore[misc]


# -- CrmRecord ------------------------------------------------------------------


def test_a_crm_record_reports_a_real_write_by_default():
    record = CrmRecord(id="rec1", kind="contact", created=True)
    assert record.performed is True
    assert record.url is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.created = False  # type: ignore[misc]
