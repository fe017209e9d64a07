"""Records of the ``email_sending`` and ``reply_fetching`` ports."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeAlias

import attrs

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import _validate as v
from aicmo_gateway.ports._fields import aware_datetime, optional_text
from aicmo_gateway.ports.bounces import Bounce, Complaint, ReplyKind, kind_of

__all__ = [
    "Attachment",
    "Bounce",
    "Complaint",
    "EmailMessage",
    "Reply",
    "ReplyBatch",
    "ReplyKind",
    "SendReceipt",
]

_MSG_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")

#: headers the record sets from its own fields; ``headers=`` may not override them
RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        *("To", "Cc", "Bcc", "From", "Sender", "Reply-To", "Subject", "Date"),
        *("Message-ID", "In-Reply-To", "References"),
        *("MIME-Version", "Content-Type", "Content-Transfer-Encoding"),
    )
)

Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]] | None


def _one_message_id(value: Any, field: str) -> str:
    text = v.header_value(value, field).strip()
    if not text.startswith("<"):
        text = f"<{text}>"
    if not _MSG_ID.match(text):
        raise InvalidInput(
            f"{field}: {value!r} is not a valid Message-ID; use the form '<unique@domain>'",
            field=field,
        )
    return text


def _message_id(value: Any, field: str) -> str | None:
    return None if value is None else _one_message_id(value, field)


def _message_ids(value: Any, field: str) -> tuple[str, ...]:
    """Message-IDs from a list, or from one string separated by whitespace (as in References)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.replace("><", "> <").split()
    items = v.items_of(value, field, "a Message-ID or a list of them")
    return tuple(_one_message_id(item, f"{field}[{i}]") for i, item in enumerate(items))


# -- Attachment ----------------------------------------------------------------


def _filename(value: str) -> str:
    return v.file_name(value, "Attachment.filename")


def _content(value: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise InvalidInput(
        f"Attachment.content: expected bytes, got {type(value).__name__}",
        field="Attachment.content",
    )


def _content_type(value: str, self: Any) -> str:
    """The given type, else one guessed from the file name (``filename`` is set first)."""
    given = v.mime_type(value, "Attachment.content_type")
    return given or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


_CONTENT_ID = re.compile(r"^<?[^<>\s]+>?$")


def _content_id(value: str | None) -> str | None:
    field = "Attachment.content_id"
    text = v.optional_header(value, field)
    if text is not None and not _CONTENT_ID.match(text):
        raise InvalidInput(
            f"{field}: {text!r} is not a content id; use one word without spaces or '<>', "
            "such as 'logo@example.com', and reference it from the HTML as 'cid:logo@example.com'",
            field=field,
        )
    return text


@attrs.frozen
class Attachment:
    """A file attached to an :class:`EmailMessage`.

    ``content_type`` is guessed from the file name when left out.
    """

    filename: str = attrs.field(converter=_filename)
    content: bytes = attrs.field(converter=_content, repr=False)
    content_type: str = attrs.field(
        # the attrs mypy plugin reads named functions only, not an attrs.Converter
        converter=attrs.Converter(_content_type, takes_self=True),  # type: ignore[misc]
        default="",
    )
    #: inline parts are referenced from the HTML by ``cid:<content_id>``
    content_id: str | None = attrs.field(converter=_content_id, default=None)


# -- EmailMessage --------------------------------------------------------------


def _to(value: v.Addresses) -> tuple[str, ...]:
    return v.addresses(value, "EmailMessage.to")


def _cc(value: v.Addresses) -> tuple[str, ...]:
    return v.addresses(value, "EmailMessage.cc")


def _bcc(value: v.Addresses) -> tuple[str, ...]:
    return v.addresses(value, "EmailMessage.bcc")


def _reply_to(value: v.Addresses) -> tuple[str, ...]:
    return v.addresses(value, "EmailMessage.reply_to")


def _sender(value: str | None) -> str | None:
    return v.optional_address(value, "EmailMessage.sender")


def _subject(value: str) -> str:
    return v.header_value(value, "EmailMessage.subject")


def _text(value: str | None) -> str | None:
    return v.body(optional_text(value, "EmailMessage.text"), "EmailMessage.text")


def _html(value: str | None) -> str | None:
    return v.body(optional_text(value, "EmailMessage.html"), "EmailMessage.html")


def _headers(value: Headers) -> tuple[tuple[str, str], ...]:
    field = "EmailMessage.headers"
    pairs = v.headers(value, field)
    for name, _ in pairs:
        if name.lower() in RESERVED_HEADERS:
            raise InvalidInput(
                f"{field}: {name!r} is set from the message's own fields; "
                "pass it as the matching EmailMessage argument instead of in headers",
                field=field,
            )
    return pairs


def _own_message_id(value: str | None) -> str | None:
    return _message_id(value, "EmailMessage.message_id")


def _in_reply_to(value: str | None) -> str | None:
    return _message_id(value, "EmailMessage.in_reply_to")


def _references(value: v.Strings) -> tuple[str, ...]:
    return _message_ids(value, "EmailMessage.references")


def _attachments(value: Attachment | Iterable[Attachment] | None) -> tuple[Attachment, ...]:
    field = "EmailMessage.attachments"
    if value is None:
        return ()
    if isinstance(value, Attachment):
        return (value,)
    items = tuple(v.items_of(value, field, "an Attachment or a list of them"))
    for i, item in enumerate(items):
        if not isinstance(item, Attachment):
            raise InvalidInput(
                f"{field}[{i}]: expected an Attachment, got {type(item).__name__}",
                field=f"{field}[{i}]",
            )
    return items


#: the values of ``EmailMessage.category``
CATEGORIES = ("marketing", "transactional")


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise InvalidInput(
            f'EmailMessage.category: {value!r} is not a category; use "marketing" (the '
            'default: newsletters, campaigns, outreach) or "transactional" (a password '
            "reset, a receipt: mail the recipient asked for)",
            field="EmailMessage.category",
        )
    return str(value)


@attrs.frozen
class EmailMessage:
    """One message to send. ``to``, ``cc``, ``bcc`` and ``reply_to`` take one address or several.

    Addresses are written ``name@example.com`` or ``Name <name@example.com>``; ``headers``
    adds headers the other fields do not cover (``X-Campaign``, ``List-Unsubscribe``).

    Fields are text, never pre-encoded headers. A field bound for a header is refused when it
    holds a control character (raw, or in an RFC 2047 encoded word that decodes to one) or a
    run of more than 900 octets without a space; a body may not hold NUL. Text that looks like
    an encoded word is sent so that it reads back as that literal text.
    """

    to: tuple[str, ...] = attrs.field(converter=_to)
    subject: str = attrs.field(converter=_subject)
    text: str | None = attrs.field(converter=_text, default=None, repr=False)
    html: str | None = attrs.field(converter=_html, default=None, repr=False)
    sender: str | None = attrs.field(converter=_sender, default=None)
    reply_to: tuple[str, ...] = attrs.field(converter=_reply_to, default=())
    cc: tuple[str, ...] = attrs.field(converter=_cc, default=())
    bcc: tuple[str, ...] = attrs.field(converter=_bcc, default=())
    headers: tuple[tuple[str, str], ...] = attrs.field(converter=_headers, default=())
    message_id: str | None = attrs.field(converter=_own_message_id, default=None)
    in_reply_to: str | None = attrs.field(converter=_in_reply_to, default=None)
    references: tuple[str, ...] = attrs.field(converter=_references, default=())
    attachments: tuple[Attachment, ...] = attrs.field(converter=_attachments, default=())
    #: ``"marketing"`` (the default) or ``"transactional"``: a transactional message may go to
    #: an address that unsubscribed (never to one that bounced or complained) and gets no
    #: ``List-Unsubscribe`` header
    category: str = attrs.field(converter=_category, default="marketing", kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not (self.to or self.cc or self.bcc):
            raise InvalidInput(
                "EmailMessage.to: the message has no recipient; pass at least one address "
                "in to, cc or bcc",
                field="EmailMessage.to",
            )
        if not (self.text or self.html):
            raise InvalidInput(
                "EmailMessage.text: the message has no body; pass a non-empty text=, html= or both",
                field="EmailMessage.text",
            )

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every envelope recipient (``local@domain``, no display name): to, then cc, then bcc.

        An address listed twice is given once (compared without regard to case).
        """
        seen: set[str] = set()
        result = []
        for item in self.to + self.cc + self.bcc:
            bare = v.bare_address(item, "EmailMessage.recipients")
            if bare.lower() not in seen:
                seen.add(bare.lower())
                result.append(bare)
        return tuple(result)


# -- SendReceipt, Reply, ReplyBatch --------------------------------------------


def _accepted(value: v.Strings) -> tuple[str, ...]:
    return v.text_tuple(value, "SendReceipt.accepted")


def _refused(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return v.frozen_mapping(value, "SendReceipt.refused")


@attrs.frozen
class SendReceipt:
    """What a sender reports after handing a message over."""

    message_id: str | None
    #: the provider's own id for the message, when it gives one
    provider_message_id: str | None = None
    accepted: tuple[str, ...] = attrs.field(default=(), converter=_accepted)
    #: recipients the server refused, with its reply
    refused: Mapping[str, str] = attrs.field(converter=_refused, factory=dict)
    #: where the message now is, for providers that store it (a file path, a URL)
    location: str | None = None
    #: ``False`` when the provider did not really send (e.g. ``noop``)
    performed: bool = True


def _reply_to_list(value: v.Strings) -> tuple[str, ...]:
    return v.text_tuple(value, "Reply.to")


def _reply_cc(value: v.Strings) -> tuple[str, ...]:
    return v.text_tuple(value, "Reply.cc")


def _reply_received_at(value: datetime | None) -> datetime | None:
    return aware_datetime(value, "Reply.received_at")


def _reply_references(value: v.Strings) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.replace("><", "> <").split())
    return v.text_tuple(value, "Reply.references")


def _reply_warnings(value: v.Strings) -> tuple[str, ...]:
    return v.text_tuple(value, "Reply.warnings")


def _records(value: Any, kind: type, field: str) -> tuple[Any, ...]:
    items = tuple(v.items_of(value, field, f"a list of {kind.__name__} records"))
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise InvalidInput(
                f"{field}[{i}]: expected a {kind.__name__}, got {type(item).__name__}",
                field=f"{field}[{i}]",
            )
    return items


def _bounces(value: Iterable[Bounce]) -> tuple[Bounce, ...]:
    return _records(value, Bounce, "Reply.bounces")


def _complaints(value: Iterable[Complaint]) -> tuple[Complaint, ...]:
    return _records(value, Complaint, "Reply.complaints")


@attrs.frozen
class Reply:
    """One received message, parsed."""

    message_id: str | None
    sender: str | None
    subject: str
    text: str = attrs.field(repr=False)
    to: tuple[str, ...] = attrs.field(default=(), converter=_reply_to_list)
    cc: tuple[str, ...] = attrs.field(default=(), converter=_reply_cc)
    html: str | None = attrs.field(default=None, repr=False)
    received_at: datetime | None = attrs.field(converter=_reply_received_at, default=None)
    in_reply_to: str | None = None
    references: tuple[str, ...] = attrs.field(default=(), converter=_reply_references)
    #: the Message-ID of the thread's first message, from References or In-Reply-To
    thread_id: str | None = None
    #: the provider's id for the message (a Maildir key, an IMAP UID)
    source_id: str | None = None
    #: what could not be parsed; the rest of the record is still usable
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_reply_warnings)
    #: ``human``, ``bounce``, ``complaint`` or ``auto_reply`` (docs/user-guide.md, "Reply kinds")
    kind: ReplyKind = attrs.field(default=ReplyKind.HUMAN, converter=kind_of)
    #: for a bounce: each failed or delayed recipient, with its status code and hard or soft
    bounces: tuple[Bounce, ...] = attrs.field(default=(), converter=_bounces)
    #: for a complaint: who complained about which message
    complaints: tuple[Complaint, ...] = attrs.field(default=(), converter=_complaints)


@attrs.frozen
class ReplyBatch:
    """Replies newer than the cursor passed in, oldest first, and the cursor to pass next."""

    replies: tuple[Reply, ...] = attrs.field(converter=tuple)
    cursor: str | None
    #: more replies are waiting beyond this batch's size limit
    has_more: bool = False

    def __len__(self) -> int:
        return len(self.replies)
