"""What an instance allows, read from ``GET /api/v2/instance`` (api/methods/instance#v2).

The ``configuration`` object (api/entities/Instance) gives ``statuses.max_characters``,
``statuses.characters_reserved_per_url``, ``statuses.max_media_attachments`` and
``media_attachments.supported_mime_types``, ``image_size_limit`` and ``video_size_limit``.
A missing or malformed value falls back to Mastodon's default; an instance without the v2
endpoint (Mastodon before 4.0: 404) gets the defaults too.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["InstanceLimits"]


def _number(section: Any, key: str, default: int) -> int:
    value = section.get(key) if isinstance(section, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return default
    return value


@attrs.frozen
class InstanceLimits:
    """An instance's limits on statuses and media (Mastodon's defaults unless it says others)."""

    max_characters: int = 500
    characters_reserved_per_url: int = 23
    max_media_attachments: int = 4
    image_size_limit: int = 16 * 1024 * 1024
    video_size_limit: int = 99 * 1024 * 1024
    #: empty when the instance does not say (then every type is tried)
    supported_mime_types: tuple[str, ...] = ()

    @classmethod
    def from_instance(cls, body: Any) -> InstanceLimits:
        """The limits in an ``Instance`` (v2) answer."""
        configuration = body.get("configuration") if isinstance(body, dict) else None
        if not isinstance(configuration, dict):
            return cls()
        statuses = configuration.get("statuses")
        media = configuration.get("media_attachments")
        types = media.get("supported_mime_types") if isinstance(media, dict) else None
        default = cls()
        return cls(
            max_characters=_number(statuses, "max_characters", default.max_characters),
            characters_reserved_per_url=_number(
                statuses, "characters_reserved_per_url", default.characters_reserved_per_url
            ),
            max_media_attachments=_number(
                statuses, "max_media_attachments", default.max_media_attachments
            ),
            image_size_limit=_number(media, "image_size_limit", default.image_size_limit),
            video_size_limit=_number(media, "video_size_limit", default.video_size_limit),
            supported_mime_types=tuple(t for t in types if isinstance(t, str))
            if isinstance(types, list)
            else (),
        )

    def size_limit(self, content_type: str) -> int:
        """The largest file of this type the instance takes (audio is limited as video)."""
        return self.image_size_limit if content_type.startswith("image/") else self.video_size_limit
