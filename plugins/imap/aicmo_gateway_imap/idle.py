"""Waiting for new mail on one long-lived connection: IMAP IDLE (push), else polling.

``MailboxWatcher.wait`` returns as soon as the mailbox holds a message newer
than a cursor, or when its timeout runs out. With ``idle = true`` and a server
that announces the IDLE capability (RFC 2177) it sleeps in IDLE and wakes on the
server's ``EXISTS``; it ends and re-issues IDLE every ``idle_rearm_seconds``
(servers may drop a client idle for 30 minutes) and looks again then, which also
catches a message announced while IDLE was being entered. Otherwise it checks
every ``poll_interval`` seconds. The connection is kept between waits and
re-opened after a failure; ``interrupt()`` (from any thread) ends a wait at once.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import selectors
import threading
import time
from typing import Any

from loguru import logger

from aicmo_gateway.errors import Unavailable
from aicmo_gateway_imap.connection import ImapSession, connect, translate_errors
from aicmo_gateway_imap.cursor import Cursor
from aicmo_gateway_imap.settings import ImapSettings

__all__ = ["MailboxWatcher"]

_log = logger.bind(provider_type="imap")


class MailboxWatcher:
    """One connection that waits for new messages; one wait at a time."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._session: ImapSession | None = None
        #: bumped by ``interrupt()``; a wait that sees it change returns
        self._generation = 0
        self._wake = threading.Event()
        self._told_no_idle = False

    # -- public ----------------------------------------------------------------------

    def wait(self, state: Cursor | None, timeout: float) -> bool:
        """Block until a message newer than ``state`` may be there (``True``) or
        ``timeout`` seconds pass or ``interrupt()`` is called (``False``).

        Without a state: any message at all (``start = "all"``), or one arriving
        after the call (``start = "new"``)."""
        deadline = time.monotonic() + max(0.0, timeout)
        generation = self._generation
        with self._lock:
            if generation != self._generation:
                return False
            self._wake.clear()
            try:
                session = self._ready()
                with translate_errors(self.settings, "waiting for new mail"):
                    if state is None and self.settings.start == "new":
                        state = session.end_cursor()
                    if self._has_new(session, state, fresh=False):
                        return True
                    if self.settings.idle and session.client.has_capability("IDLE"):
                        return self._idle(session, state, deadline, generation)
                    if self.settings.idle and not self._told_no_idle:
                        self._told_no_idle = True
                        _log.warning(
                            "imap {}: the server does not support IDLE; checking for new "
                            "mail every {}s instead",
                            self.settings.address,
                            self.settings.poll_interval,
                        )
                    return self._poll(session, state, deadline, generation)
            except BaseException:
                self._drop()
                if generation != self._generation:
                    return False  # interrupted: the failure is the closed connection
                raise

    def interrupt(self) -> None:
        """End a running wait (it returns ``False``) and close the connection."""
        self._generation += 1
        self._wake.set()
        session = self._session
        if session is not None:
            session.abort()
        if self._lock.acquire(timeout=5):
            try:
                self._drop()
            finally:
                self._lock.release()

    # -- internals -------------------------------------------------------------------

    def _ready(self) -> ImapSession:
        """The kept connection, its view of the mailbox refreshed; a new one if it broke."""
        if self._session is not None:
            try:
                with translate_errors(self.settings, "checking the kept connection"):
                    self._session.examine()
                return self._session
            except Unavailable as exc:
                _log.debug("imap {}: reconnecting ({})", self.settings.address, exc)
                self._drop()
        self._session = connect(self.settings)
        return self._session

    def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _has_new(self, session: ImapSession, state: Cursor | None, *, fresh: bool) -> bool:
        if fresh:
            session.examine()
        if state is None:
            return session.exists > 0
        if session.uidvalidity != state.uidvalidity:
            return True  # the next fetch rescans the mailbox
        return bool(session.uids_after(state.last_uid))

    def _poll(
        self, session: ImapSession, state: Cursor | None, deadline: float, generation: int
    ) -> bool:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._wake.wait(min(remaining, self.settings.poll_interval))
            if generation != self._generation:
                return False
            if self._has_new(session, state, fresh=True):
                return True

    def _idle(
        self, session: ImapSession, state: Cursor | None, deadline: float, generation: int
    ) -> bool:
        client = session.client
        rearm = self.settings.idle_rearm_seconds
        with selectors.DefaultSelector() as selector:
            selector.register(client.socket(), selectors.EVENT_READ)
            while True:
                client.idle()
                armed_until = min(deadline, time.monotonic() + rearm)
                announced = self._sleep_in_idle(client, selector, armed_until, generation)
                if generation != self._generation:
                    return False
                with contextlib.suppress(Exception):
                    client.idle_done()
                if self._has_new(session, state, fresh=True):
                    return True
                if announced:
                    _log.debug("imap {}: woken by the server, nothing new", self.settings.address)
                if time.monotonic() >= deadline:
                    return False
                _log.debug("imap {}: re-arming IDLE", self.settings.address)

    def _sleep_in_idle(
        self,
        client: Any,
        selector: selectors.BaseSelector,
        until: float,
        generation: int,
    ) -> bool:
        """Sleep in IDLE until ``until``; ``True`` when the server announced a change.

        A response may arrive split over several TCP segments, so the socket being
        readable says only that a response has begun: each one is read whole (its
        line, and any literal it announces) in blocking mode, within ``timeout``
        seconds, before it is looked at. Responses already buffered are read before
        waiting on the socket again.
        """
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return False
            if not _buffered(client) and not selector.select(remaining):
                continue
            if generation != self._generation:
                return False
            response = _read_response(client, self.settings.timeout)
            if response is None:
                raise Unavailable(
                    f"imap {self.settings.address}: the server closed the connection during IDLE"
                )
            if _announces_mail(response):
                return True


#: a response line that announces a literal: ``{n}`` (or ``{n+}``) at its end
_LITERAL = re.compile(rb"\{(\d{1,10})\+?\}\r\n\Z")
#: ``* n EXISTS`` (a message arrived) or ``* n RECENT``
_ANNOUNCES = re.compile(rb"\* \d+ (?:EXISTS|RECENT)\r\n\Z", re.IGNORECASE)
#: the largest literal read (and dropped) while in IDLE; servers send flags, not bodies
_MAX_LITERAL = 1024 * 1024


def _buffered(client: Any) -> bool:
    """Whether bytes of the server's next response were already received (read ahead)."""
    sock = client.socket()
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(client._imap.file.peek(1))  # IMAPClient's imaplib connection
    except OSError:  # nothing there (a TLS socket says so with an error)
        return False
    finally:
        sock.settimeout(timeout)


def _read_response(client: Any, timeout: float) -> bytes | None:
    """One whole response: its first line, after reading (and dropping) its literals;
    ``None`` when the connection ended first."""
    imap = client._imap
    client.socket().settimeout(timeout)
    first: bytes = imap.readline()
    line = first
    while line.endswith(b"\n"):
        literal = _LITERAL.search(line)
        if literal is None:
            return first
        size = int(literal.group(1))
        if size > _MAX_LITERAL:
            raise imaplib.IMAP4.abort(f"the server sent a literal of {size} bytes in IDLE")
        if len(imap.read(size)) < size:
            return None
        line = imap.readline()
    return None


def _announces_mail(response: bytes) -> bool:
    return _ANNOUNCES.match(response) is not None
