"""``BlueskyPoster``: the ``social_posting`` provider that publishes ``app.bsky.feed.post`` records.

Follows the atproto lexicons (github.com/bluesky-social/atproto ``lexicons/``):
``com.atproto.server.createSession``/``refreshSession``/``getSession`` (see ``session``),
``com.atproto.repo.createRecord`` (``repo``, ``collection``, ``rkey``, ``record``; answers
``uri`` and ``cid``), ``com.atproto.repo.getRecord``, ``com.atproto.repo.uploadBlob`` (the raw
bytes with their ``Content-Type``; answers ``blob``), ``com.atproto.identity.resolveHandle``,
and the record lexicons in ``records`` and ``text``; atproto.com/specs/record-key and
specs/tid; docs.bsky.app ``advanced-guides/rate-limits`` (``ratelimit-limit``,
``-remaining``, ``-reset`` as a Unix time).

Retries are safe: the record key is derived from the call's idempotency key (``rkey``), and a
repository holds one record per key. Before creating, and again when a create fails, the poster
reads that key: a post with the same text there is this call's post (its receipt is returned);
another text there means the key was reused for another post (``InvalidInput``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from loguru import logger

from aicmo_gateway import Ambiguous, InvalidInput, RateLimited, Secret, Unavailable
from aicmo_gateway.http import HttpClient, HttpResponse, RequestPacer, fingerprint, retry_after_of
from aicmo_gateway.ports import PostReceipt, SocialPost
from aicmo_gateway_bluesky.records import (
    POST,
    check_post,
    facet,
    images_embed,
    parse_post_ref,
    post_text,
)
from aicmo_gateway_bluesky.rkey import rkey_for_key
from aicmo_gateway_bluesky.session import Session, SessionStore
from aicmo_gateway_bluesky.settings import BlueskySettings
from aicmo_gateway_bluesky.text import find_spans
from aicmo_gateway_bluesky.xrpc import error_name, raise_for

__all__ = ["BlueskyPoster"]

#: the longest a request waits for the account's rate-limit window before failing over
MAX_HOLD = 10.0
#: errors that mean the access JWT is no longer accepted
_STALE = frozenset({"ExpiredToken", "InvalidToken"})


class BlueskyPoster:
    """Publishes posts to one Bluesky account."""

    def __init__(self, settings: BlueskySettings, *, transport: Any = None) -> None:
        self.settings = settings
        password = settings.app_password
        self.http = HttpClient(
            settings.service,
            timeout=settings.timeout,
            secrets=[password],
            provider="bluesky",
            transport=transport,
        )
        account = (self.http.base_url, settings.identifier.lower())
        self._store = SessionStore.shared(("bluesky", *account, fingerprint(password.reveal())))
        self._pacer = RequestPacer.shared(
            ("bluesky", *account), None, max_wait=MAX_HOLD, name="bluesky"
        )
        self._log = logger.bind(provider_type="bluesky")
        #: the last session whose tokens this poster's client masks (it may be another's login)
        self._masked: Session | None = None

    def __repr__(self) -> str:
        return f"BlueskyPoster({self.http.base_url!r}, identifier={self.settings.identifier!r})"

    # -- the port --------------------------------------------------------------------------

    async def post(self, post: SocialPost, *, idempotency_key: str | None = None) -> PostReceipt:
        text = post_text(post)
        check_post(post, text)
        rkey = rkey_for_key(idempotency_key or uuid.uuid4().hex)
        existing = await self._existing(rkey, text)
        if existing is not None:
            return existing
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        facets = await self._facets(text)
        if facets:
            record["facets"] = facets
        language = post.language
        if language:
            record["langs"] = [language]
        if post.in_reply_to:
            record["reply"] = await self._reply_refs(post.in_reply_to)
        if post.media:
            blobs = [await self._upload(item.content, item.content_type) for item in post.media]
            record["embed"] = images_embed(post.media, blobs)
        try:
            response, session = await self._call(
                "POST",
                "com.atproto.repo.createRecord",
                write=True,
                json={"repo": "", "collection": POST, "rkey": rkey, "record": record},
            )
        except (Ambiguous, InvalidInput, Unavailable) as error:
            # refused or unclear: a record under this key may exist (an earlier attempt's)
            found = await self._existing(rkey, text, quiet=True)
            if found is not None:
                return found
            raise error from None
        return self._receipt(response, session)

    async def check(self) -> None:
        """Create the session (or refresh it) and read it back: ``getSession``."""
        await self._call("GET", "com.atproto.server.getSession", write=False)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    # -- records ---------------------------------------------------------------------------

    async def _existing(self, rkey: str, text: str, *, quiet: bool = False) -> PostReceipt | None:
        """The receipt of this call's post when the key already holds it; None when empty."""
        try:
            response, session = await self._call(
                "GET",
                "com.atproto.repo.getRecord",
                write=False,
                params={"collection": POST, "rkey": rkey},
                missing_ok=True,
            )
        except (Unavailable, Ambiguous):
            if quiet:
                return None
            raise
        if response.status >= 400:
            return None
        body: Any = response.json()
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, dict):
            return None
        if value.get("text") != text:
            raise InvalidInput(
                f"bluesky: this idempotency key was already used for another post "
                f"({body.get('uri')}); use a new key for a new post"
            )
        self._log.debug("record {} already holds this post", rkey)
        return self._receipt(response, session)

    async def _facets(self, text: str) -> list[dict[str, Any]]:
        facets = []
        for span in find_spans(text):
            did = None
            if span.kind == "mention":
                did = await self._resolve(span.value)
                if did is None:
                    continue  # not a handle that exists: left as plain text, as the app does
            facets.append(facet(span, did))
        return facets

    async def _resolve(self, handle: str) -> str | None:
        response, _ = await self._call(
            "GET",
            "com.atproto.identity.resolveHandle",
            write=False,
            params={"handle": handle},
            missing_ok=True,
        )
        if response.status >= 400:
            return None
        body: Any = response.json()
        did = body.get("did") if isinstance(body, dict) else None
        return did if isinstance(did, str) and did.startswith("did:") else None

    async def _reply_refs(self, in_reply_to: str) -> dict[str, Any]:
        repo, rkey = parse_post_ref(in_reply_to)
        response, _ = await self._call(
            "GET",
            "com.atproto.repo.getRecord",
            write=False,
            params={"repo": repo, "collection": POST, "rkey": rkey},
            missing_ok=True,
        )
        body: Any = response.json() if response.status < 400 else None
        if not isinstance(body, dict) or not body.get("uri") or not body.get("cid"):
            raise InvalidInput(
                f"bluesky: the post this one answers ({in_reply_to}) was not found",
                field="SocialPost.in_reply_to",
            )
        parent = {"uri": body["uri"], "cid": body["cid"]}
        value = body.get("value")
        reply = value.get("reply") if isinstance(value, dict) else None
        root = reply.get("root") if isinstance(reply, dict) else None
        return {"root": root if isinstance(root, dict) else parent, "parent": parent}

    async def _upload(self, content: bytes, content_type: str) -> Any:
        response, _ = await self._call(
            "POST",
            "com.atproto.repo.uploadBlob",
            write=False,  # a blob no record uses is deleted by the PDS: nothing is published
            content=content,
            headers={"Content-Type": content_type},
        )
        body: Any = response.json()
        blob = body.get("blob") if isinstance(body, dict) else None
        if not isinstance(blob, dict):
            raise Unavailable(
                f"bluesky: uploadBlob answered without a blob ({response.detail()!r})"
            )
        return blob

    def _receipt(self, response: HttpResponse, session: Session) -> PostReceipt:
        body: Any = response.json()
        uri = body.get("uri") if isinstance(body, dict) else None
        if not isinstance(uri, str) or not uri.startswith("at://"):
            raise Ambiguous(
                f"bluesky: HTTP {response.status} without the post's at:// URI "
                f"({response.detail()!r}); the post may have been published",
                provider="bluesky",
            )
        rkey = uri.rsplit("/", 1)[1]
        profile = session.handle if session.handle != "handle.invalid" else session.did
        return PostReceipt(post_id=uri, url=f"https://bsky.app/profile/{profile}/post/{rkey}")

    # -- XRPC with the session -------------------------------------------------------------

    async def _call(
        self,
        method: str,
        nsid: str,
        *,
        write: bool,
        missing_ok: bool = False,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        **options: Any,
    ) -> tuple[HttpResponse, Session]:
        """Call ``nsid`` with the account's session, renewing it once when it has gone stale."""
        session = await self._store.current(self._login)
        response = await self._send(method, nsid, session, write, params, json, **options)
        stale = error_name(response) in _STALE or response.status == 401
        if stale:
            refresh = self._refresh if error_name(response) == "ExpiredToken" else None
            session = await self._store.renew(session, refresh, self._login)
            response = await self._send(method, nsid, session, write, params, json, **options)
        if missing_ok and response.status == 400 and error_name(response) not in _STALE:
            return response, session  # RecordNotFound, unresolvable handle: the caller decides
        self._raise_for(response, nsid)
        return response, session

    async def _send(
        self,
        method: str,
        nsid: str,
        session: Session,
        write: bool,
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
        **options: Any,
    ) -> HttpResponse:
        if params is not None and "collection" in params and "repo" not in params:
            params = {"repo": session.did, **params}
        if json is not None and json.get("repo") == "":
            json = {**json, "repo": session.did}
        if session is not self._masked:  # a session another poster created: mask its tokens too
            self.http.add_secrets(session.access_jwt, session.refresh_jwt)
            self._masked = session
        headers = {**options.pop("headers", {}), "Authorization": Secret(f"Bearer {_jwt(session)}")}
        await self._pacer.acquire()
        response = await self.http.request(
            method,
            f"/xrpc/{nsid}",
            write=write,
            params=params,
            json=json,
            headers=headers,
            raise_for_status=False,
            **options,
        )
        self._note_limits(response)
        return response

    async def _login(self) -> Session:
        """``createSession``: the one login, shared by every poster of the account."""
        await self._pacer.acquire()
        response = await self.http.request(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            json={
                "identifier": self.settings.identifier,
                "password": self.settings.app_password.reveal(),
            },
            write=False,
            raise_for_status=False,
        )
        self._note_limits(response)
        self._raise_for(response, "com.atproto.server.createSession")
        self._log.debug("created a session for {}", self.settings.identifier)
        return self._session_of(response)

    async def _refresh(self, stale: Session) -> Session:
        """``refreshSession`` with the refresh JWT; a login when that has expired too."""
        await self._pacer.acquire()
        response = await self.http.request(
            "POST",
            "/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": Secret(f"Bearer {stale.refresh_jwt.reveal()}")},
            write=False,
            raise_for_status=False,
        )
        self._note_limits(response)
        if error_name(response) in _STALE or response.status == 401:
            return await self._login()
        self._raise_for(response, "com.atproto.server.refreshSession")
        self._log.debug("refreshed the session of {}", self.settings.identifier)
        return self._session_of(response)

    def _session_of(self, response: HttpResponse) -> Session:
        body: Any = response.json()
        fields = ("accessJwt", "refreshJwt", "did", "handle")
        values = [body.get(f) if isinstance(body, dict) else None for f in fields]
        found = [v for v in values if isinstance(v, str) and v]
        if len(found) != len(fields):
            raise Unavailable(
                "bluesky: the session answer lacks accessJwt, refreshJwt, did or handle"
            )
        access, refresh, did, handle = found
        session = Session(Secret(access), Secret(refresh), did, handle)
        self.http.add_secrets(access, refresh)
        return session

    def _raise_for(self, response: HttpResponse, nsid: str) -> None:
        try:
            raise_for(response, self.http, what=nsid)
        except RateLimited as limited:  # the PDS limits the account: every poster of it waits
            self._pacer.lock_out(limited.retry_after if limited.retry_after is not None else 60.0)
            raise

    def _note_limits(self, response: HttpResponse) -> None:
        """A spent window (``ratelimit-remaining: 0``) holds every poster until its reset."""
        lowered = {k.lower(): v for k, v in response.headers.items()}
        if lowered.get("ratelimit-remaining", "").strip() != "0" or response.status == 429:
            return
        wait = retry_after_of({"ratelimit-reset": lowered.get("ratelimit-reset", "1")})
        self._pacer.hold(wait if wait is not None else 1.0)


def _jwt(session: Session) -> str:
    return session.access_jwt.reveal()
