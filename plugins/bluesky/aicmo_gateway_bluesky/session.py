"""One atproto session per account in the process, created once and refreshed, never per post.

From the lexicons ``com.atproto.server.createSession`` (``identifier``, ``password``; answers
``accessJwt``, ``refreshJwt``, ``handle``, ``did``) and ``com.atproto.server.refreshSession``
(called with the refresh JWT as the bearer token; answers a new pair), and docs.bsky.app
``advanced-guides/rate-limits``: createSession is limited to 30 per 5 minutes and 300 a day per
account, so logging in for every post would lock the account out within minutes.

:meth:`SessionStore.shared` gives every poster of one account (service, identifier, password)
the same store. Concurrent posts wait on one lock while the session is created; when the access
JWT has expired (``ExpiredToken``), the first caller refreshes it and the others use the new
one; a refresh JWT that has expired too, or was revoked, leads to one new login.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import ClassVar

import attrs

from aicmo_gateway import Secret

__all__ = ["Session", "SessionStore"]


@attrs.frozen
class Session:
    """An account's session: its tokens (never printed), DID and handle."""

    access_jwt: Secret = attrs.field(repr=False)
    refresh_jwt: Secret = attrs.field(repr=False)
    did: str
    handle: str


Login = Callable[[], Awaitable[Session]]
Refresh = Callable[[Session], Awaitable[Session]]


class SessionStore:
    """The current session of one account, shared by every poster of it in the process."""

    _registry: ClassVar[dict[Hashable, SessionStore]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._session: Session | None = None
        self._guard = threading.Lock()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        session = self._session
        return f"SessionStore(did={session.did if session else None!r})"

    @classmethod
    def shared(cls, key: Hashable) -> SessionStore:
        """The process-wide store for ``key`` (key it by a fingerprint, never the password)."""
        with cls._registry_lock:
            store = cls._registry.get(key)
            if store is None:
                store = cls._registry[key] = cls()
            return store

    @property
    def session(self) -> Session | None:
        return self._session

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            lock = self._locks.get(loop)
            if lock is None:
                lock = self._locks[loop] = asyncio.Lock()
            return lock

    async def current(self, login: Login) -> Session:
        """The session, created with ``login`` by the first caller when there is none."""
        session = self._session
        if session is not None:
            return session
        async with self._lock():
            if self._session is None:
                self._session = await login()
            return self._session

    async def renew(self, stale: Session, refresh: Refresh | None, login: Login) -> Session:
        """A session to replace ``stale``: refreshed (or new) once, whoever asks first."""
        async with self._lock():
            if self._session is not None and self._session is not stale:
                return self._session  # another caller renewed it meanwhile
            self._session = await refresh(stale) if refresh is not None else await login()
            return self._session

    def forget(self, stale: Session) -> None:
        """Drop ``stale`` (its credentials were refused), so the next caller logs in."""
        with self._guard:
            if self._session is stale:
                self._session = None
