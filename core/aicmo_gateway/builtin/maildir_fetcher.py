"""The Maildir reply fetcher: the messages in ``new/`` and ``cur/``, oldest first.

It reads them without moving or flagging them: a person's mail client keeps its own state
there. Its cursor (:mod:`aicmo_gateway.builtin.maildir_cursor`) is opaque to callers; inside
it is a watermark (the newest delivery time returned, in nanoseconds) and the keys already
returned within ``grace_seconds`` below it, so messages delivered in the same instant, or
moved into ``new/`` slightly out of order, are neither lost nor returned twice. A message
whose file time is older than the watermark by more than the grace window when it appears is
not returned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from aicmo_gateway.builtin.maildir_disk import names, open_maildir

# the MIME layer, loguru and the records load when a message is read
if TYPE_CHECKING:
    from aicmo_gateway.ports import Reply, ReplyBatch

__all__ = ["MaildirReplyFetcher"]


@attrs.frozen
class MaildirReplyFetcher:
    """Returns the messages delivered to a Maildir since the cursor, oldest first."""

    path: Path = attrs.field(converter=Path)
    #: at most this many replies per call; ``has_more`` says when more are waiting
    batch_size: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    #: create an empty Maildir when missing
    create: bool = False
    #: how late (in file time) a delivery may appear and still be returned
    grace_seconds: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))

    def check(self) -> None:
        """Raise a ``ProviderError`` unless the Maildir exists (or is created) and is readable."""
        open_maildir(self.path, self.create)
        for sub in ("new", "cur"):
            names(self.path / sub)  # listed as a fetch lists it, to meet the same refusals

    def fetch_replies(self, cursor: str | None) -> ReplyBatch:
        from aicmo_gateway.builtin.maildir_cursor import MaildirCursor
        from aicmo_gateway.ports import ReplyBatch

        state = MaildirCursor.decode(cursor)
        open_maildir(self.path, self.create)
        grace_ns = int(self.grace_seconds * 1e9)
        floor = None if state.watermark is None else state.watermark - grace_ns
        pending = sorted(
            (when, key, path)
            for key, (when, path) in self._scan().items()
            if key not in state.seen and (floor is None or when > floor)
        )
        batch = pending[: self.batch_size]
        replies = [r for when, key, path in batch if (r := self._read(key, when, path)) is not None]
        if not batch:
            return ReplyBatch(replies=(), cursor=cursor, has_more=False)
        return ReplyBatch(
            replies=replies,  # type: ignore[arg-type]  # mypy reads converter=tuple badly
            cursor=state.advance([(when, key) for when, key, _ in batch], grace_ns).encode(),
            has_more=len(pending) > len(batch),
        )

    def _scan(self) -> dict[str, tuple[int, Path]]:
        """Every message key with its delivery time (ns) and file; ``new/`` first, then ``cur/``."""
        found: dict[str, tuple[int, Path]] = {}
        for sub in ("new", "cur"):  # a message moves new -> cur, so this order misses none
            for name in names(self.path / sub):
                path = self.path / sub / name
                try:
                    when = path.stat().st_mtime_ns
                except FileNotFoundError:  # moved to cur/ meanwhile: found there
                    continue
                found.setdefault(name.split(":")[0], (when, path))
        return found

    def _read(self, key: str, when: int, path: Path) -> Reply | None:
        from loguru import logger

        from aicmo_gateway.mime import parse_reply

        received = datetime.fromtimestamp(when / 1e9, UTC)
        candidates = [path]
        for _ in range(3):  # the file may have moved from new/ to cur/ (flags in its name)
            for candidate in candidates:
                try:
                    raw = candidate.read_bytes()
                except FileNotFoundError:
                    continue
                except OSError as exc:  # returned with a warning: it must not block the rest
                    return _unreadable(key, received, candidate, exc)
                return parse_reply(raw, source_id=key, received_at=received)
            candidates = [
                self.path / sub / name
                for sub in ("new", "cur")
                for name in names(self.path / sub)
                if name.split(":")[0] == key
            ]
        logger.bind(provider_type="maildir").debug("message {} vanished before reading", key)
        return None


def _unreadable(key: str, received: datetime, path: Path, exc: OSError) -> Reply:
    from loguru import logger

    from aicmo_gateway.ports import Reply

    logger.bind(provider_type="maildir").warning("message {} cannot be read: {}", key, exc)
    return Reply(
        message_id=None,
        sender=None,
        subject="",
        text="",
        source_id=key,
        received_at=received,
        warnings=[
            f"the message file {str(path)!r} could not be read ({exc.strerror or exc}); "
            "it is returned empty so that the messages after it are not held back"
        ],
    )
