"""Records of the ``social_posting`` port."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from typing import Any

import attrs

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import _validate as v
from aicmo_gateway.ports._fields import optional_text

__all__ = ["Media", "PostReceipt", "SocialPost", "Visibility"]

Visibility = str  # "public", "unlisted", "private" or "direct"
_VISIBILITIES = ("public", "unlisted", "private", "direct")
_MEDIA_KINDS = ("image/", "video/", "audio/")


# -- Media ---------------------------------------------------------------------


def _filename(value: str) -> str:
    return v.file_name(value, "Media.filename")


def _content(value: bytes | bytearray | memoryview) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidInput(
            f"Media.content: expected bytes, got {type(value).__name__}; "
            "read the file in binary mode",
            field="Media.content",
        )
    return bytes(value)


def _content_type(value: str, self: Any) -> str:
    """The given type, else one guessed from the file name (``filename`` is set first); it
    must be an image, a video or audio."""
    content_type = (
        v.mime_type(value, "Media.content_type") or mimetypes.guess_type(self.filename)[0] or ""
    )
    if not content_type.startswith(_MEDIA_KINDS):
        found = repr(content_type) if content_type else "no known media type"
        raise InvalidInput(
            f"Media.content_type: {self.filename!r} has {found}, but a post takes images, "
            "videos or audio; pass content_type= (e.g. 'image/png') or a file name "
            "with a known extension such as .png, .jpg or .mp4",
            field="Media.content_type",
        )
    return content_type


def _description(value: str | None) -> str | None:
    return optional_text(value, "Media.description")


@attrs.frozen
class Media:
    """An image, video or audio file attached to a post, with its alt text.

    ``content_type`` is guessed from the file name when left out; it must be an
    ``image/``, ``video/`` or ``audio/`` type.
    """

    filename: str = attrs.field(converter=_filename)
    content: bytes = attrs.field(converter=_content, repr=False)
    content_type: str = attrs.field(
        # the attrs mypy plugin reads named functions only, not an attrs.Converter
        converter=attrs.Converter(_content_type, takes_self=True),  # type: ignore[misc]
        default="",
    )
    description: str | None = attrs.field(converter=_description, default=None)


# -- SocialPost ----------------------------------------------------------------


def _text(value: str) -> str:
    return v.non_empty(value, "SocialPost.text")


def _media(value: Media | Iterable[Media] | None) -> tuple[Media, ...]:
    field = "SocialPost.media"
    if value is None:
        return ()
    if isinstance(value, Media):
        return (value,)
    items = tuple(v.items_of(value, field, "a Media or a list of them"))
    for i, item in enumerate(items):
        if not isinstance(item, Media):
            raise InvalidInput(
                f"{field}[{i}]: expected a Media, got {type(item).__name__}",
                field=f"{field}[{i}]",
            )
    return items


def _link(value: str | None) -> str | None:
    return optional_text(value, "SocialPost.link")


def _visibility(value: Visibility) -> str:
    field = "SocialPost.visibility"
    if not isinstance(value, str) or value not in _VISIBILITIES:
        raise InvalidInput(
            f"{field}: {value!r} is not a visibility; use one of {', '.join(_VISIBILITIES)}",
            field=field,
        )
    return value


def _in_reply_to(value: str | None) -> str | None:
    return optional_text(value, "SocialPost.in_reply_to")


def _spoiler(value: str | None) -> str | None:
    return optional_text(value, "SocialPost.spoiler")


def _language(value: str | None) -> str | None:
    return optional_text(value, "SocialPost.language")


@attrs.frozen
class SocialPost:
    """A post to publish. Networks with shorter limits reject longer text as invalid input."""

    text: str = attrs.field(converter=_text)
    media: tuple[Media, ...] = attrs.field(converter=_media, default=())
    link: str | None = attrs.field(converter=_link, default=None)
    visibility: str = attrs.field(converter=_visibility, default="public")
    #: the network's id of the post this one answers
    in_reply_to: str | None = attrs.field(converter=_in_reply_to, default=None)
    #: a content warning shown before the text, where the network has one
    spoiler: str | None = attrs.field(converter=_spoiler, default=None)
    language: str | None = attrs.field(converter=_language, default=None)


@attrs.frozen
class PostReceipt:
    """The network's id and URL of the published post."""

    post_id: str | None
    url: str | None = None
    #: ``False`` when the provider did not really publish (e.g. ``noop``)
    performed: bool = True
