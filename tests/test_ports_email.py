"""The email records: what EmailMessage accepts, how it normalises, and what it refuses."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from email.utils import parseaddr

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Attachment, EmailMessage, Reply, ReplyBatch, SendReceipt
from aicmo_gateway.ports._validate import address, parse_address


def message(**overrides):
    fields = {"to": "ann@example.com", "subject": "Hello", "text": "Hi Ann"}
    fields.update(overrides)
    return EmailMessage(**fields)


# -- recipients and body -------------------------------------------------------


def test_a_message_without_any_recipient_is_refused():
    with pytest.raises(InvalidInput, match="no recipient") as info:
        message(to=())
    assert info.value.field == "EmailMessage.to"
    assert "pass at least one address" in str(info.value)


def test_an_empty_string_as_to_counts_as_no_recipient():
    with pytest.raises(InvalidInput, match="no recipient"):
        message(to="  ")


def test_a_message_with_only_bcc_recipients_is_accepted():
    msg = message(to=None, bcc="hidden@example.com")
    assert msg.to == ()
    assert msg.recipients == ("hidden@example.com",)


def test_a_message_without_body_is_refused():
    with pytest.raises(InvalidInput, match="no body") as info:
        EmailMessage(to="ann@example.com", subject="Hello")
    assert info.value.field == "EmailMessage.text"
    assert "text=" in str(info.value)
    assert "html=" in str(info.value)


def test_empty_text_and_html_count_as_no_body():
    with pytest.raises(InvalidInput, match="no body"):
        message(text="", html="")


def test_an_html_only_message_is_accepted():
    msg = message(text=None, html="<p>Hi</p>")
    assert msg.html == "<p>Hi</p>"
    assert msg.text is None


def test_a_non_string_body_is_refused_naming_the_field():
    with pytest.raises(InvalidInput, match=r"EmailMessage\.html: expected a string"):
        message(html=b"<p>bytes</p>")


def test_invalid_input_is_a_value_error():
    with pytest.raises(ValueError, match="no recipient"):
        message(to=[])


# -- header injection ----------------------------------------------------------


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: x@evil.com", "Hi\nthere", "Hi\rthere", "Hi\r"])
def test_a_subject_with_cr_or_lf_is_refused(subject):
    with pytest.raises(InvalidInput, match="line break") as info:
        message(subject=subject)
    assert info.value.field == "EmailMessage.subject"
    assert "remove the line breaks" in str(info.value)


@pytest.mark.parametrize("separator", ["\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x1e"])
def test_a_subject_with_another_line_separator_is_refused(separator):
    # the email package refuses every str.splitlines() separator in a header value
    with pytest.raises(InvalidInput, match="line break"):
        message(subject=f"Hi{separator}there")


@given(
    before=st.text(max_size=20),
    after=st.text(max_size=20),
    brk=st.sampled_from(["\r", "\n", "\r\n"]),
)
def test_any_subject_containing_cr_or_lf_is_refused(before, after, brk):
    with pytest.raises(InvalidInput, match=r"EmailMessage\.subject"):
        message(subject=before + brk + after)


def test_an_extra_header_value_with_a_line_break_is_refused_naming_the_header():
    with pytest.raises(InvalidInput, match="line break") as info:
        message(headers={"X-Campaign": "spring\r\nBcc: x@evil.com"})
    assert "EmailMessage.headers['X-Campaign']" in str(info.value)


def test_an_address_with_a_line_break_is_refused():
    with pytest.raises(InvalidInput, match="line break") as info:
        message(to="ann@example.com\r\nBcc: x@evil.com")
    assert info.value.field == "EmailMessage.to"


def test_a_subject_may_be_empty():
    assert message(subject="").subject == ""


def test_a_non_string_subject_is_refused():
    with pytest.raises(InvalidInput, match=r"EmailMessage\.subject: expected a string, got int"):
        message(subject=42)


# -- malformed addresses -------------------------------------------------------

BAD_ADDRESSES = {
    "no @": ("ann.example.com", "no '@'"),
    "two @": ("ann@bob@example.com", "2 '@' signs"),
    "empty local part": ("@example.com", "part before '@' is empty"),
    "empty domain": ("ann@", "domain after '@' is empty"),
    "no dot in domain": ("ann@localhost", "has no '.'"),
    "space in local part": ("ann smith@example.com", "space or a special character"),
    "space in domain": ("ann@exa mple.com", "contains a space"),
    "bad label": ("ann@-example.com", "label '-example' is not valid"),
    "underscore label": ("ann@my_host.com", "label 'my_host' is not valid"),
    "leading dot in local part": (".ann@example.com", "misplaced '.'"),
    "trailing dot in local part": ("ann.@example.com", "misplaced '.'"),
    "double dot in local part": ("an..n@example.com", "misplaced '.'"),
    "leading dot in domain": ("ann@.example.com", "misplaced '.'"),
    "double dot in domain": ("ann@example..com", "misplaced '.'"),
    "trailing dot in domain": ("ann@example.com.", "misplaced '.'"),
    "several in one string": ("ann@example.com, bob@example.com", "pass a list"),
    "unclosed angle bracket": ("Ann <ann@example.com", "out of place"),
    "text after the address": ("Ann <ann@example.com> x", "out of place"),
    "comment": ("ann@example.com (Ann)", "comment in parentheses"),
    "unquoted special in name": ("Doe, Ann <ann@example.com>", "put it in double quotes"),
    "empty": ("", "it is empty"),
    "only a name": ("Ann <>", "it is empty"),
    "quoted local part": ('"ann smith"@example.com', "special character"),
    "label too long": ("ann@" + "a" * 64 + ".com", "not valid"),
}


@pytest.mark.parametrize("field", ["to", "cc", "bcc", "reply_to"])
@pytest.mark.parametrize(("bad", "problem"), BAD_ADDRESSES.values(), ids=BAD_ADDRESSES.keys())
def test_a_malformed_address_in_a_list_field_is_refused_naming_field_and_position(
    field, bad, problem
):
    with pytest.raises(InvalidInput) as info:
        message(**{field: ["good@example.com", bad]})
    text = str(info.value)
    assert text.startswith(f"EmailMessage.{field}[1]: ")
    assert info.value.field == f"EmailMessage.{field}[1]"
    assert problem in text
    assert "use the form 'name@example.com' or 'Name <name@example.com>'" in text


@pytest.mark.parametrize(("bad", "problem"), BAD_ADDRESSES.values(), ids=BAD_ADDRESSES.keys())
def test_a_malformed_sender_is_refused(bad, problem):
    with pytest.raises(InvalidInput) as info:
        message(sender=bad)
    assert info.value.field == "EmailMessage.sender"
    assert problem in str(info.value)
    assert "use the form" in str(info.value)


def test_a_single_malformed_string_names_the_field_without_a_position():
    with pytest.raises(InvalidInput) as info:
        message(cc="not-an-address")
    assert str(info.value).startswith("EmailMessage.cc: 'not-an-address' is not a valid")


def test_a_non_string_address_is_refused():
    with pytest.raises(InvalidInput, match=r"EmailMessage\.to\[0\]: expected an email address"):
        message(to=[42])


@pytest.mark.parametrize("value", [42, b"ann@example.com", {"ann@example.com": 1}])
def test_a_value_that_is_neither_an_address_nor_a_list_is_refused(value):
    with pytest.raises(InvalidInput, match=r"EmailMessage\.cc: expected an address or a list"):
        message(cc=value)


# -- valid addresses -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "normalised"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  ann@example.com  ", "ann@example.com"),
        ("<ann@example.com>", "ann@example.com"),
        ("Ann Lee <ann@example.com>", "Ann Lee <ann@example.com>"),
        ("Ann   Lee   <ann@example.com>", "Ann Lee <ann@example.com>"),
        ('"Lee, Ann" <ann@example.com>', '"Lee, Ann" <ann@example.com>'),
        ("Ann Q. Lee <ann@example.com>", '"Ann Q. Lee" <ann@example.com>'),
        ('"Ann \\"the boss\\" Lee" <a@example.com>', '"Ann \\"the boss\\" Lee" <a@example.com>'),
        ('"" <ann@example.com>', "ann@example.com"),
        ("O'Brien <ob@example.com>", "O'Brien <ob@example.com>"),
        ("ann+news@sub.example.co.uk", "ann+news@sub.example.co.uk"),
        ("Jörg <jörg@bücher.de>", "Jörg <jörg@bücher.de>"),
        ("ann@xn--bcher-kva.de", "ann@xn--bcher-kva.de"),
        ("ann@例え.テスト", "ann@例え.テスト"),
        ("ANN@EXAMPLE.COM", "ANN@EXAMPLE.COM"),
    ],
)
def test_valid_address_forms_are_accepted_and_normalised(given_, normalised):
    assert message(to=given_).to == (normalised,)


def test_a_single_string_and_a_list_give_the_same_tuple():
    assert message(cc="bob@example.com").cc == message(cc=["bob@example.com"]).cc
    assert message(cc="bob@example.com").cc == ("bob@example.com",)


def test_any_iterable_of_addresses_is_accepted():
    msg = message(to=(a for a in ["a@example.com", "b@example.com"]))
    assert msg.to == ("a@example.com", "b@example.com")


def test_the_sender_is_normalised_like_the_recipients():
    assert message(sender=" Sales  Team <sales@example.com> ").sender == (
        "Sales Team <sales@example.com>"
    )


def test_the_sender_is_optional():
    assert message().sender is None


# -- recipients property --------------------------------------------------------


def test_recipients_lists_to_then_cc_then_bcc():
    msg = message(to="a@example.com", cc=["b@example.com"], bcc=["c@example.com"])
    assert msg.recipients == ("a@example.com", "b@example.com", "c@example.com")


def test_recipients_are_bare_addresses_without_display_names():
    msg = message(to="Ann <ann@example.com>", cc='"Lee, Bob" <bob@example.com>')
    assert msg.recipients == ("ann@example.com", "bob@example.com")


def test_recipients_lists_an_address_once():
    msg = message(to="ann@example.com", cc="Ann <ANN@example.com>", bcc="bob@example.com")
    assert msg.recipients == ("ann@example.com", "bob@example.com")


def test_reply_to_is_not_a_recipient():
    assert message(reply_to="desk@example.com").recipients == ("ann@example.com",)


# -- extra headers --------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Subject", "to", "BCC", "From", "Reply-To", "Message-ID", "Content-Type", "Date"]
)
def test_reserved_headers_are_refused_in_headers(name):
    with pytest.raises(InvalidInput, match="set from the message's own fields") as info:
        message(headers={name: "x"})
    assert info.value.field == "EmailMessage.headers"
    assert "pass it as the matching EmailMessage argument" in str(info.value)


def test_extra_headers_are_kept_in_order_from_a_mapping_or_pairs():
    from_mapping = message(headers={"X-Campaign": "spring", "List-Unsubscribe": "<mailto:u@x.io>"})
    from_pairs = message(
        headers=[("X-Campaign", "spring"), ("List-Unsubscribe", "<mailto:u@x.io>")]
    )
    assert from_mapping.headers == from_pairs.headers
    assert from_mapping.headers == (
        ("X-Campaign", "spring"),
        ("List-Unsubscribe", "<mailto:u@x.io>"),
    )


@pytest.mark.parametrize("name", ["X Campaign", "X-Campaign:", "", "X-Ünicode", 42])
def test_an_invalid_header_name_is_refused(name):
    with pytest.raises(InvalidInput, match="not a valid header name"):
        message(headers={name: "x"})


def test_headers_given_as_a_list_of_strings_are_refused_with_the_expected_shape():
    with pytest.raises(InvalidInput, match=r"not a \(name, value\) pair; pass a mapping"):
        message(headers=["X-Campaign: spring"])


def test_a_non_string_header_value_is_refused():
    with pytest.raises(InvalidInput, match=r"EmailMessage\.headers\['X-Count'\]: expected a str"):
        message(headers={"X-Count": 3})


# -- Message-ID, In-Reply-To, References ---------------------------------------


def test_a_message_id_without_angle_brackets_gets_them():
    assert message(message_id="abc.123@example.com").message_id == "<abc.123@example.com>"


def test_a_message_id_with_angle_brackets_and_spaces_is_trimmed():
    assert message(in_reply_to="  <abc@example.com> ").in_reply_to == "<abc@example.com>"


@pytest.mark.parametrize("bad", ["no-at-sign", "<a b@example.com>", "<a@b@c>", "", "<>", "a@b>"])
def test_a_malformed_message_id_is_refused_with_the_expected_form(bad):
    with pytest.raises(InvalidInput, match="use the form '<unique@domain>'") as info:
        message(message_id=bad)
    assert info.value.field == "EmailMessage.message_id"


def test_a_message_id_with_a_line_break_is_refused():
    with pytest.raises(InvalidInput, match="line break"):
        message(in_reply_to="<a@example.com>\r\nBcc: x@evil.com")


def test_references_from_a_whitespace_separated_string_are_split():
    msg = message(references="<a@example.com>  <b@example.com>\t<c@example.com>")
    assert msg.references == ("<a@example.com>", "<b@example.com>", "<c@example.com>")


def test_references_written_without_spaces_are_split():
    msg = message(references="<a@example.com><b@example.com>")
    assert msg.references == ("<a@example.com>", "<b@example.com>")


def test_references_from_a_list_are_normalised_one_by_one():
    msg = message(references=["a@example.com", "<b@example.com>"])
    assert msg.references == ("<a@example.com>", "<b@example.com>")


def test_a_bad_reference_is_refused_naming_its_position():
    with pytest.raises(InvalidInput) as info:
        message(references=["<a@example.com>", "nope"])
    assert info.value.field == "EmailMessage.references[1]"


def test_a_missing_reference_in_a_list_is_refused():
    with pytest.raises(InvalidInput, match=r"EmailMessage\.references\[0\]: expected a string"):
        message(references=[None])


# -- attachments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("report.pdf", "application/pdf"),
        ("photo.PNG", "image/png"),
        ("notes.txt", "text/plain"),
        ("data.csv", "text/csv"),
        ("archive", "application/octet-stream"),
        ("strange.unknownext", "application/octet-stream"),
    ],
)
def test_an_attachment_content_type_is_guessed_from_the_file_name(filename, content_type):
    assert Attachment(filename=filename, content=b"x").content_type == content_type


def test_a_given_content_type_wins_over_the_guess_and_is_lower_cased():
    att = Attachment(filename="report.pdf", content=b"x", content_type="Text/Plain")
    assert att.content_type == "text/plain"


@pytest.mark.parametrize(
    "bad", ["pdf", "application/pdf/x", "text/plain\r\nBcc: x@evil.com", "text/plain; x=1"]
)
def test_a_malformed_content_type_is_refused(bad):
    with pytest.raises(InvalidInput, match="is not a MIME type") as info:
        Attachment(filename="a.pdf", content=b"x", content_type=bad)
    assert info.value.field == "Attachment.content_type"


@pytest.mark.parametrize("name", ["../etc/passwd", "dir/file.txt", "C:\\temp\\file.txt", "a\\b"])
def test_an_attachment_filename_with_a_path_separator_is_refused(name):
    with pytest.raises(InvalidInput, match="path separator; pass the bare file name") as info:
        Attachment(filename=name, content=b"x")
    assert info.value.field == "Attachment.filename"


@pytest.mark.parametrize("name", ["", "   ", "..", "."])
def test_an_empty_or_dot_attachment_filename_is_refused(name):
    with pytest.raises(InvalidInput, match=r"Attachment\.filename"):
        Attachment(filename=name, content=b"x")


def test_an_attachment_filename_with_a_line_break_is_refused():
    with pytest.raises(InvalidInput, match="line break"):
        Attachment(filename="a.txt\r\nX-Evil: 1", content=b"x")


def test_attachment_content_accepts_bytes_like_and_text():
    assert Attachment(filename="a.bin", content=bytearray(b"ab")).content == b"ab"
    assert Attachment(filename="a.bin", content=memoryview(b"ab")).content == b"ab"
    assert Attachment(filename="a.txt", content="é").content == "é".encode()


def test_attachment_content_of_another_type_is_refused():
    with pytest.raises(InvalidInput, match=r"Attachment\.content: expected bytes, got int"):
        Attachment(filename="a.bin", content=3)


def test_attachment_content_is_not_in_its_repr():
    assert "secret-bytes" not in repr(Attachment(filename="a.txt", content=b"secret-bytes"))


def test_a_content_id_with_a_line_break_is_refused():
    with pytest.raises(InvalidInput, match="line break"):
        Attachment(filename="logo.png", content=b"x", content_id="logo\nX-Evil: 1")


def test_a_message_takes_one_attachment_or_several():
    att = Attachment(filename="a.txt", content=b"x")
    assert message(attachments=att).attachments == (att,)
    assert message(attachments=[att, att]).attachments == (att, att)


def test_something_other_than_an_attachment_is_refused_naming_its_position():
    att = Attachment(filename="a.txt", content=b"x")
    with pytest.raises(InvalidInput, match=r"attachments\[1\]: expected an Attachment, got str"):
        message(attachments=[att, "file.pdf"])


# -- immutability and repr ----------------------------------------------------------


def test_an_email_message_is_frozen():
    msg = message()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        msg.subject = "changed"  # type: ignore[misc]


def test_an_attachment_is_frozen():
    att = Attachment(filename="a.txt", content=b"x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        att.content_type = "text/html"  # type: ignore[misc]


def test_evolve_revalidates_the_changed_field():
    with pytest.raises(InvalidInput, match=r"EmailMessage\.subject"):
        attrs.evolve(message(), subject="a\nb")


def test_the_body_is_not_in_the_repr():
    text = repr(message(text="private words", html="<p>private html</p>"))
    assert "private" not in text
    assert "ann@example.com" in text


def test_messages_are_hashable_and_equal_by_value():
    assert message() == message()
    assert hash(message()) == hash(message())


# -- the other email records ---------------------------------------------------------


def test_a_send_receipt_keeps_one_accepted_address_whole():
    assert SendReceipt(message_id=None, accepted="ann@example.com").accepted == ("ann@example.com",)


def test_a_send_receipt_refused_mapping_is_read_only():
    receipt = SendReceipt(message_id="<a@b.c>", refused={"x@example.com": "550 no such user"})
    with pytest.raises(TypeError):
        receipt.refused["y@example.com"] = "550"  # type: ignore[index]
    assert receipt.performed is True


def test_a_send_receipt_copies_the_refused_mapping():
    refused = {"x@example.com": "550"}
    receipt = SendReceipt(message_id=None, refused=refused)
    refused["y@example.com"] = "550"
    assert dict(receipt.refused) == {"x@example.com": "550"}


def test_a_reply_keeps_single_string_fields_whole():
    reply = Reply(
        message_id="<r@example.com>",
        sender="ann@example.com",
        subject="Re: Hello",
        text="Thanks",
        to="sales@example.com",
        warnings="could not parse the date",
        references="<a@example.com> <b@example.com>",
    )
    assert reply.to == ("sales@example.com",)
    assert reply.warnings == ("could not parse the date",)
    assert reply.references == ("<a@example.com>", "<b@example.com>")


def test_a_reply_with_a_naive_received_at_is_refused():
    with pytest.raises(InvalidInput, match="no timezone") as info:
        Reply(
            message_id=None,
            sender=None,
            subject="",
            text="",
            received_at=datetime(2024, 1, 1),
        )
    assert info.value.field == "Reply.received_at"


def test_a_reply_batch_has_a_length_and_a_tuple_of_replies():
    reply = Reply(
        message_id=None,
        sender=None,
        subject="s",
        text="t",
        received_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    batch = ReplyBatch(replies=[reply, reply], cursor="42")
    assert len(batch) == 2
    assert batch.replies == (reply, reply)
    assert batch.has_more is False


# -- properties ------------------------------------------------------------------------

_ATOM = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~."
_local = st.text(alphabet=_ATOM + "äö", min_size=1, max_size=20)
_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_domain = st.lists(_label, min_size=2, max_size=4).map(".".join)
_name = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


@given(local=_local, domain=_domain, name=_name, angle=st.booleans())
def test_an_accepted_address_round_trips_through_parseaddr(local, domain, name, angle):
    spec = f"{local}@{domain}"
    candidate = f"{name} <{spec}>" if angle else spec
    try:
        normalised = address(candidate, "field")
    except InvalidInput:
        return
    # parseaddr reads back exactly the display name and address the validator understood
    assert parseaddr(normalised) == parse_address(candidate, "field")
    assert parseaddr(normalised)[1] == spec
    # normalising is idempotent: the output is accepted and left as it is
    assert address(normalised, "field") == normalised


@given(st.text(max_size=40))
def test_any_accepted_text_round_trips_through_parseaddr(text):
    try:
        normalised = address(text, "field")
    except InvalidInput:
        return
    name, spec = parseaddr(normalised)
    assert spec
    assert normalised == spec if not name else normalised.endswith(f"<{spec}>")
    assert address(normalised, "field") == normalised


@given(local=_local, domain=_domain)
def test_a_plain_address_with_a_valid_local_part_is_kept_as_given(local, domain):
    assume(not (local.startswith(".") or local.endswith(".") or ".." in local))
    spec = f"{local}@{domain}"
    assert address(spec, "field") == spec
    assert parseaddr(spec) == ("", spec)
