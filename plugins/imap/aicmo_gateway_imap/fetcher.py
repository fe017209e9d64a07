"""``ImapReplyFetcher``: the ``imap`` provider of the ``reply_fetching`` port.

Each ``fetch_replies`` opens a connection, logs in, EXAMINEs the mailbox
(read-only), asks for the UIDs after the cursor, fetches at most
``batch_size`` messages with ``BODY.PEEK[]`` (so ``\\Seen`` stays unset: a
person's mail client keeps its state) and logs out. The methods are plain
``def``: the gateway runs them in a worker thread.

The cursor (see :mod:`aicmo_gateway_imap.cursor`) remembers the mailbox, its
UIDVALIDITY and the last UID returned. When the server reports another
UIDVALIDITY (the mailbox was recreated or renumbered), the old UIDs mean
nothing any more: the mailbox is read again from the start, the fetch logs a
warning and every reply of that batch carries one in ``Reply.warnings``, since
some of them may have been returned before.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import attrs
from loguru import logger

from aicmo_gateway.errors import AuthError, Unavailable
from aicmo_gateway.mime import parse_reply
from aicmo_gateway.ports import Reply, ReplyBatch
from aicmo_gateway_imap.connection import ImapSession, open_session
from aicmo_gateway_imap.cursor import Cursor
from aicmo_gateway_imap.idle import MailboxWatcher
from aicmo_gateway_imap.settings import ImapSettings

__all__ = ["ImapReplyFetcher"]

_log = logger.bind(provider_type="imap")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class ImapReplyFetcher:
    """Reads new messages from one IMAP mailbox without changing anything there."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._watcher = MailboxWatcher(settings)
        self._open: set[ImapSession] = set()
        self._open_lock = threading.Lock()
        if settings.security == "none" and settings.host not in _LOOPBACK:
            _log.warning(
                "imap {}: security is 'none': the password and the mail travel unencrypted",
                settings.address,
            )

    @classmethod
    def from_settings(cls, **values: Any) -> ImapReplyFetcher:
        """Build from config keys (see :class:`ImapSettings`); the ``imap`` type's factory."""
        return cls(ImapSettings(**values))

    def __repr__(self) -> str:
        return f"ImapReplyFetcher({self.settings!r})"

    # -- the port ----------------------------------------------------------------------

    def fetch_replies(self, cursor: str | None) -> ReplyBatch:
        """Replies after ``cursor``, oldest first, at most ``batch_size``; pass the batch's
        ``cursor`` to the next call. Without a cursor: the mailbox's messages from the
        oldest (``start = "all"``), or none and a cursor at the end (``start = "new"``)."""
        state = Cursor.decode(cursor, mailbox=self.settings.mailbox)
        with self._session("fetching replies") as session:
            if state is None and self.settings.start == "new":
                end = session.end_cursor().encode()
                return ReplyBatch(replies=(), cursor=end, has_more=False)
            last = 0 if state is None else state.last_uid
            notes: list[str] = []
            if state is not None and state.uidvalidity != session.uidvalidity:
                notes.append(self._renumbered(state, session.uidvalidity))
                last = 0
            uids = session.uids_after(last)
            batch = uids[: self.settings.batch_size]
            fetched = session.fetch(batch)
        replies = [self._reply(uid, *fetched[uid], notes) for uid in batch if uid in fetched]
        after = Cursor(self.settings.mailbox, session.uidvalidity, batch[-1] if batch else last)
        _log.debug(
            "imap {}: {} repl{} from {!r}",
            self.settings.address,
            len(replies),
            "y" if len(replies) == 1 else "ies",
            self.settings.mailbox,
        )
        return ReplyBatch(
            replies=replies,  # type: ignore[arg-type]  # mypy reads converter=tuple badly
            cursor=after.encode(),
            has_more=len(uids) > len(batch),
        )

    def check(self) -> None:
        """Connect, log in, EXAMINE the mailbox and log out; raise when any step fails."""
        with self._session("checking"):
            pass

    # -- waiting for new mail ------------------------------------------------------------

    def wait_for_replies(self, cursor: str | None, timeout: float) -> bool:
        """Block until the mailbox holds messages after ``cursor`` (``True``), or for
        ``timeout`` seconds (``False``).

        Uses IMAP IDLE when ``idle = true`` and the server supports it, re-issuing
        it every ``idle_rearm_seconds``; otherwise checks every ``poll_interval``
        seconds. A ``True`` is a hint: call ``fetch_replies(cursor)`` next. Without a
        cursor it waits for any message (``start = "all"``) or a new one (``"new"``).
        """
        state = Cursor.decode(cursor, mailbox=self.settings.mailbox)
        return self._watcher.wait(state, timeout)

    async def watch(self, cursor: str | None = None) -> AsyncIterator[ReplyBatch]:
        """Yield each non-empty batch of new replies as it arrives, for ever.

        Keep each batch's ``cursor`` to resume after a restart. Stop by leaving the
        ``async for`` (or cancelling the task); ``aclose()`` ends a running wait. A lost
        connection or an unreachable server is logged and retried every
        ``poll_interval`` seconds; an ``AuthError`` (login refused, mailbox gone) ends it.
        """
        while True:
            try:
                batch = await asyncio.to_thread(self.fetch_replies, cursor)
            except AuthError:
                raise
            except Unavailable as exc:
                await self._pause(exc)
                continue
            cursor = batch.cursor
            if batch.replies:
                yield batch
            if batch.has_more:
                continue
            try:
                await asyncio.to_thread(
                    self.wait_for_replies, cursor, self.settings.idle_rearm_seconds
                )
            except asyncio.CancelledError:
                self._watcher.interrupt()  # frees the worker thread blocked in the wait
                raise
            except AuthError:
                raise
            except Unavailable as exc:
                await self._pause(exc)

    async def _pause(self, exc: Unavailable) -> None:
        _log.warning(
            "imap {}: {}; trying again in {}s",
            self.settings.address,
            exc,
            self.settings.poll_interval,
        )
        await asyncio.sleep(self.settings.poll_interval)

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close every open connection; a running wait returns ``False``."""
        self._watcher.interrupt()
        with self._open_lock:
            sessions = list(self._open)
        for session in sessions:
            session.abort()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # -- internals ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _session(self, doing: str) -> Iterator[ImapSession]:
        """A connection for one call, known to ``close()`` while it is open."""
        with open_session(self.settings, doing) as session:
            with self._open_lock:
                self._open.add(session)
            try:
                yield session
            finally:
                with self._open_lock:
                    self._open.discard(session)

    def _renumbered(self, state: Cursor, validity: int) -> str:
        note = (
            f"the mailbox {self.settings.mailbox!r} was renumbered (UIDVALIDITY "
            f"{state.uidvalidity} -> {validity}); it was read again from the start, so "
            "this reply may have been returned before"
        )
        _log.warning("imap {}: {}", self.settings.address, note)
        return note

    @staticmethod
    def _reply(uid: int, raw: bytes | None, when: datetime | None, notes: list[str]) -> Reply:
        if raw is None:
            reply = Reply(
                message_id=None,
                sender=None,
                subject="",
                text="",
                source_id=str(uid),
                received_at=when,
                warnings=[f"the server returned no content for UID {uid}"],
            )
        else:
            reply = parse_reply(raw, source_id=str(uid), received_at=when)
        if notes:
            reply = attrs.evolve(reply, warnings=(*reply.warnings, *notes))
        return reply
