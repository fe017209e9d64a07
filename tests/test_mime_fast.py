"""``render_message`` writes the bytes the standard library writes, fast path or not.

The reference is ``render(build_message(...), policy=...)``: the standard library's
``email`` package, checked. Both draw the multipart boundary from ``random``, so each
comparison seeds it the same way first. ``render_simple`` (the fast path) is compared on its
own too, wherever it applies, and must apply to the common shapes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from email import policy as email_policy
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.mime import POLICY, SMTP_POLICY, build_message, render, render_message
from aicmo_gateway.mime.fast import render_simple
from aicmo_gateway.ports import Attachment, EmailMessage

DATE = datetime(2026, 11, 30, 6, 5, 9, tzinfo=UTC)
MESSAGE_ID = "<0123456789abcdef.aicmo@example.com>"
POLICIES = {
    "file": POLICY,
    "smtp": SMTP_POLICY,
    "file-utf8": POLICY.clone(utf8=True),
    "smtp-utf8": SMTP_POLICY.clone(utf8=True),
}


def reference(message: EmailMessage, policy: Any, seed: int = 1) -> bytes:
    """The standard library's bytes: built, flattened and checked."""
    random.seed(seed)
    return render(build_message(message, message_id=MESSAGE_ID, date=DATE), policy=policy)


def rendered(message: EmailMessage, policy: Any, seed: int = 1) -> bytes:
    random.seed(seed)
    data, message_id = render_message(message, policy=policy, message_id=MESSAGE_ID, date=DATE)
    assert message_id == (message.message_id or MESSAGE_ID)
    return data


def fast(message: EmailMessage, policy: Any, seed: int = 1) -> bytes | None:
    random.seed(seed)
    sender = message.sender or "sales@example.com"
    return render_simple(message, sender, message.message_id or MESSAGE_ID, DATE, policy)


def outreach(n: int = 0, **changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": f"Lead {n} <lead{n}@example.com>",
        "sender": "Sales <sales@example.com>",
        "subject": f"Our offer for you, lead {n}",
        "text": f"Hello lead {n},\n\nhere is our offer.\n\n-- \nSales\n" * 5,
        "html": f"<p>Hello <b>lead {n}</b>,</p><p>here is our offer.</p>" * 5,
    }
    fields.update(changes)
    return EmailMessage(**fields)


def assert_same(message: EmailMessage, *, applies: bool | None = None) -> None:
    for name, policy in POLICIES.items():
        expected = reference(message, policy)
        assert rendered(message, policy) == expected, name
        quick = fast(message, policy)
        if applies is not None:
            assert (quick is not None) is applies, name
        if quick is not None:
            assert quick == expected, name


# -- hand-picked shapes ----------------------------------------------------------------

LONG_SUBJECT = " ".join(["word"] * 40)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"html": None},
        {"text": None},
        {"text": "", "html": "<p>only html</p>"},
        {"subject": "a" * 69},  # "Subject: " + 69 = 78 octets, one line
        {"subject": "a" * 70},  # 79 octets: the standard library's path
        {"subject": "x " * 34 + "yz"},  # a line of 78, then the fold
        {"subject": LONG_SUBJECT},
        {"subject": "w" * 35 + " " + "v" * 41},  # 77 octets: a line of its own after "Subject:"
        {"subject": "w" * 35 + " " + "v" * 42},  # 78: too long for that, filled word by word
        {"headers": [("X-Long-Header-Name", "w" * 30 + " " + "v" * 46)]},
        {"subject": "short " + "b" * 77},  # a 77-octet word folds onto a line of its own
        {"subject": "short " + "b" * 78},  # too long for a line: encoded, the standard way
        {"subject": "Ünïcödé subject"},
        {"subject": "=?utf-8?q?looks_encoded?="},
        {"subject": "ends with a space "},
        {"subject": "two  spaces"},
        {"sender": "Jos\u00e9 <jose@example.com>"},
        {"sender": '"Doe, Jane" <jane@example.com>'},
        {"sender": '"J. R. Doe" <jr@example.com>'},
        {"to": ["a@example.com", "B <b@example.com>"], "cc": "c@example.com"},
        {"to": [f"Lead {i} <lead{i}@example.com>" for i in range(5)]},  # folded: stdlib
        {"reply_to": "Replies <replies@example.com>", "bcc": "audit@example.com"},
        {"in_reply_to": "<prev@example.com>", "references": ["<a@x.com>", "<b@x.com>"]},
        {"references": [f"<ref{i}.aaaaaaaaaaaa@example.com>" for i in range(8)]},
        {"headers": [("X-Campaign", "spring"), ("List-Unsubscribe-Post", "One-Click")]},
        {"headers": [("List-Unsubscribe", "<mailto:u@example.com>, <https://e.com/" + "u" * 80)]},
        {"headers": [("X-Note", "caf\u00e9")]},
        {"message_id": "<own-id@example.com>"},
        {"message_id": "<" + "i" * 70 + "@example.com>"},  # a line over 78: stdlib
        {"text": "é" * 40},  # short non-ASCII: quoted-printable or base64, as chosen
        {"text": "€ and ü\n" * 30},
        {"text": "x" * 78 + "\n" + "y" * 79},  # 7bit up to 78, then quoted-printable
        {"text": "z" * 998 + "\n" + "z" * 999},
        {"text": "trailing space \ntrailing tab\t\n"},
        {"text": "lone\rcr and lone\nlf and crlf\r\n"},
        {"text": ".leading dot\n..two\n.\n"},
        {"text": "no newline at the end"},
        {"text": "=3D and = signs=\n" * 3},
        {"text": "x" * 5000},
        {"html": "<p>" + "word " * 400 + "</p>"},
        {"text": "Grüße\u2028separator\x85next\x0bvt\x0cff"},
    ],
    ids=lambda changes: ",".join(f"{k}={str(v)[:20]!r}" for k, v in changes.items()) or "plain",
)
def test_hand_picked_messages_render_as_the_standard_library_renders_them(
    changes: dict[str, Any],
) -> None:
    assert_same(outreach(**changes))


def test_the_fast_path_applies_to_typical_outreach_messages() -> None:
    for message in (
        outreach(),
        outreach(html=None),
        outreach(text=None),
        outreach(subject=LONG_SUBJECT, text="Grüße, Jürgen\n" * 20),
        outreach(subject="Grüße aus Köln, Jürgen ✓ " * 4 + "und 日本語", html=None),
        outreach(subject="two  spaces\tand a tab ", headers=[("X-Note", "café " + "é" * 90)]),
        outreach(
            cc="Boss <boss@example.com>",
            reply_to="replies@example.com",
            in_reply_to="<prev@example.com>",
            references=["<a@example.com>", "<prev@example.com>"],
            headers=[("List-Unsubscribe", "<mailto:u@example.com>"), ("X-Campaign", "q4")],
        ),
    ):
        assert_same(message, applies=True)


@pytest.mark.parametrize(
    "changes",
    [
        {"sender": "Jos\u00e9 <jose@example.com>"},
        {"subject": "=?utf-8?q?hi?="},
        {"attachments": [Attachment("a.txt", b"data", "text/plain")]},
    ],
)
def test_shapes_the_fast_path_does_not_know_take_the_standard_librarys_path(
    changes: dict[str, Any],
) -> None:
    assert_same(outreach(**changes), applies=False)


def test_dates_in_other_zones_and_without_a_zone_are_written_as_the_standard_library_does() -> None:
    message = outreach()
    for date in (
        datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 1, 2, 3, 4, 5),
    ):
        random.seed(3)
        expected = render(build_message(message, message_id=MESSAGE_ID, date=date))
        random.seed(3)
        assert render_message(message, message_id=MESSAGE_ID, date=date)[0] == expected


def test_a_body_holding_the_boundary_gets_another_one() -> None:
    random.seed(5)
    boundary = "=" * 15 + f"{random.randrange(2**63 - 1):019d}" + "=="
    message = outreach(text=f"--{boundary}\nsmuggled\n--{boundary}--\n")
    random.seed(5)
    data, _ = render_message(message, policy=SMTP_POLICY, message_id=MESSAGE_ID, date=DATE)
    parsed = message_from_bytes(data, policy=email_policy.SMTP)
    assert parsed.get_boundary() != boundary
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_a_message_id_is_made_when_none_is_given() -> None:
    data, message_id = render_message(outreach(), domain="mail.example.com")
    assert message_id.endswith("@mail.example.com>")
    assert f"Message-ID: {message_id}\n".encode() in data


def test_a_message_without_a_sender_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no sender"):
        render_message(outreach(sender=None))


def test_fields_forced_past_the_validators_are_refused_as_the_standard_library_refuses() -> None:
    message = outreach()
    object.__setattr__(message, "subject", "hi\r\nBcc: evil@attacker.example")
    with pytest.raises(InvalidInput):
        render_message(message, policy=SMTP_POLICY)
    object.__setattr__(message, "subject", "fine")
    object.__setattr__(message, "text", "nul\x00byte")
    with pytest.raises(InvalidInput):
        render_message(message, policy=SMTP_POLICY)
    object.__setattr__(message, "text", "fine")
    object.__setattr__(message, "bcc", ("x\r\nRCPT TO:<evil@attacker.example>",))
    with pytest.raises(InvalidInput):
        render_message(message, policy=SMTP_POLICY)


# -- a generated corpus ------------------------------------------------------------------

#: ASCII words with a few non-ASCII letters, ``=`` and ``?`` so encoded words appear too
WORD = st.text(
    alphabet=st.sampled_from("abcXYZ019.,:;!?=<>@()\"'-_/é€ü日"), min_size=1, max_size=12
) | st.sampled_from(["a" * 77, "b" * 78, "c" * 300, "=?", "?="])
HEADER_TEXT = st.lists(WORD, min_size=1, max_size=25).flatmap(
    lambda words: st.sampled_from([" ", "  ", " \t"]).map(lambda sep: sep.join(words))
)
NAME = st.one_of(
    st.just(""),
    st.lists(
        st.sampled_from(["Ann", "Lee", "O'Neil", "Dr.", "Doe,", "José", "A&B"]), max_size=4
    ).map(" ".join),
)
LOCAL = st.sampled_from(["ann", "lead.7", "first+tag", "x_y", "a" * 40])
DOMAIN = st.sampled_from(["example.com", "mail.example.co.uk", "x" * 30 + ".example"])
ADDRESS = st.builds(
    lambda name, local, domain: f"{name} <{local}@{domain}>" if name else f"{local}@{domain}",
    NAME,
    LOCAL,
    DOMAIN,
)
LINE = st.one_of(
    st.text(alphabet=st.sampled_from("ab .=\t-é€"), max_size=30),
    st.integers(min_value=70, max_value=80).map(lambda n: "q" * n),
    st.integers(min_value=995, max_value=1001).map(lambda n: "w" * n),
    st.sampled_from(["", ".", "..", "-- ", "From here", "=", " ", "\t"]),
)
BODY = st.lists(LINE, max_size=14).flatmap(
    lambda lines: st.sampled_from(["\n", "\r\n", "\r"]).map(lambda sep: sep.join(lines))
)
MESSAGE_ID_TEXT = st.builds(lambda local, domain: f"<{local}@{domain}>", LOCAL, DOMAIN)


@st.composite
def messages(draw: st.DrawFn) -> EmailMessage:
    text = draw(st.none() | BODY)
    html = draw(st.none() | BODY)
    if not (text or html):
        text = "x"
    fields: dict[str, Any] = {
        "to": draw(st.lists(ADDRESS, min_size=1, max_size=3)),
        "cc": draw(st.lists(ADDRESS, max_size=2)),
        "sender": draw(ADDRESS),
        "subject": draw(HEADER_TEXT),
        "text": text,
        "html": html,
        "headers": draw(
            st.lists(st.tuples(st.sampled_from(["X-Campaign", "List-Unsubscribe"]), HEADER_TEXT))
        ),
        "in_reply_to": draw(st.none() | MESSAGE_ID_TEXT),
        "references": draw(st.lists(MESSAGE_ID_TEXT, max_size=6)),
    }
    try:
        return EmailMessage(**fields)
    except InvalidInput:
        fields.update(subject="refused", headers=[], sender="s@x.com", to="t@x.com", cc=[])
        return EmailMessage(**fields)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages(), policy=st.sampled_from(sorted(POLICIES)), seed=st.integers(0, 99))
def test_generated_messages_render_as_the_standard_library_renders_them(
    message: EmailMessage, policy: str, seed: int
) -> None:
    try:
        expected = reference(message, POLICIES[policy], seed)
    except InvalidInput:  # the standard library's output failed the check: not a fast shape
        assert fast(message, POLICIES[policy], seed) is None
        return
    assert rendered(message, POLICIES[policy], seed) == expected
    quick = fast(message, POLICIES[policy], seed)
    event("fast path" if quick is not None else "standard library's path")
    assert quick is None or quick == expected
