"""``MastodonPoster``: the ``social_posting`` provider, publishing with ``POST /api/v1/statuses``.

Follows docs.joinmastodon.org: methods/statuses#create (``status``, ``media_ids[]``,
``in_reply_to_id``, ``sensitive``, ``spoiler_text``, ``visibility``, ``language``, and the
``Idempotency-Key`` header: "prevent duplicate submissions of the same status", keys stored for
up to 1 hour), methods/media (uploads and processing), methods/instance#v2 (the limits),
methods/accounts#verify_credentials (``check()``) and api/rate-limits (``X-RateLimit-Limit``,
``-Remaining``, ``-Reset``, the last an ISO 8601 time stamp).

Before anything is sent the post is measured as Mastodon measures it (see ``length``) against
the instance's ``max_characters``, and its media against the instance's media limits: a post
the instance would refuse is ``InvalidInput`` (REJECTED) without a request. A 429 locks every
poster of the same account in this process out until the reset; a success with
``X-RateLimit-Remaining: 0`` makes them wait for it (or fail over when that is too long).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from loguru import logger

from aicmo_gateway import Ambiguous, InvalidInput, RateLimited, Secret
from aicmo_gateway.http import HttpClient, HttpResponse, RequestPacer, fingerprint
from aicmo_gateway.ports import PostReceipt, SocialPost
from aicmo_gateway_mastodon.errors import raise_for, reset_wait
from aicmo_gateway_mastodon.instance import InstanceLimits
from aicmo_gateway_mastodon.length import count_characters
from aicmo_gateway_mastodon.media import check_media, upload
from aicmo_gateway_mastodon.settings import MastodonSettings, most_private

__all__ = ["MastodonPoster", "idempotency_header"]

#: the longest a post waits for the account's rate-limit window before failing over
MAX_HOLD = 10.0
#: how long the instance's limits are kept before they are read again
LIMITS_TTL = 3600.0
#: the longest a key travels as is (Mastodon stores it in Redis; longer ones are hashed)
MAX_KEY_LENGTH = 256


def idempotency_header(key: str) -> str:
    """The ``Idempotency-Key`` value for ``key``: itself, or its SHA-256 when unfit for a header."""
    if 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable():
        return key
    return "sha256-" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class MastodonPoster:
    """Publishes statuses to one Mastodon account."""

    def __init__(
        self,
        settings: MastodonSettings,
        *,
        transport: Any = None,
        poll_interval: float = 1.0,
        media_wait: float = 60.0,
    ) -> None:
        self.settings = settings
        token = settings.access_token
        self.http = HttpClient(
            settings.instance_url,
            timeout=settings.timeout,
            headers={"Authorization": Secret(f"Bearer {token.reveal()}")},
            provider="mastodon",
            transport=transport,
        )
        self.poll_interval = poll_interval
        self.media_wait = media_wait
        # Mastodon limits requests per account: every poster of it shares the waits
        self._pacer = RequestPacer.shared(
            ("mastodon", self.http.base_url, fingerprint(token.reveal())),
            None,
            max_wait=MAX_HOLD,
            name="mastodon",
        )
        self._limits: InstanceLimits | None = None
        self._limits_read = 0.0
        self._log = logger.bind(provider_type="mastodon")

    def __repr__(self) -> str:
        return f"MastodonPoster({self.http.base_url!r}, visibility={self.settings.visibility!r})"

    # -- the port --------------------------------------------------------------------------

    async def post(self, post: SocialPost, *, idempotency_key: str | None = None) -> PostReceipt:
        limits = await self.limits()
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}"
        length = count_characters(text, post.spoiler, url_length=limits.characters_reserved_per_url)
        if length > limits.max_characters:
            raise InvalidInput(
                f"mastodon: the post is {length} characters as Mastodon counts them (every URL "
                f"as {limits.characters_reserved_per_url}, mentions without their domain, the "
                f"content warning included); this instance allows at most "
                f"{limits.max_characters}: shorten it",
                field="SocialPost.text",
            )
        check_media(post.media, limits)
        media_ids = [await self._upload(item, index) for index, item in enumerate(post.media)]
        body: dict[str, Any] = {
            "status": text,
            "visibility": most_private(post.visibility, self.settings.visibility),
        }
        language = post.language or self.settings.language
        if language:
            body["language"] = language
        if post.spoiler:
            body["spoiler_text"] = post.spoiler
            body["sensitive"] = True
        if post.in_reply_to:
            body["in_reply_to_id"] = post.in_reply_to
        if media_ids:
            body["media_ids"] = media_ids
        headers = (
            {"Idempotency-Key": idempotency_header(idempotency_key)} if idempotency_key else {}
        )
        response = await self._request(
            "POST",
            "/api/v1/statuses",
            json=body,
            headers=headers,
            write=True,
            replying=bool(post.in_reply_to),
        )
        return self._receipt(response)

    async def check(self) -> None:
        """Verify the token with ``GET /api/v1/accounts/verify_credentials``."""
        await self._request("GET", "/api/v1/accounts/verify_credentials", write=False)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    async def limits(self) -> InstanceLimits:
        """The instance's limits, read from ``GET /api/v2/instance`` at most once an hour."""
        now = time.monotonic()
        if self._limits is None or now - self._limits_read > LIMITS_TTL:
            await self._pacer.acquire()
            response = await self.http.request(
                "GET", "/api/v2/instance", write=False, raise_for_status=False
            )
            self._note_limits(response)
            if response.status == 404:  # before Mastodon 4.0: the defaults apply
                self._limits = InstanceLimits()
            else:
                self._raise_for(response)
                self._limits = InstanceLimits.from_instance(response.json())
            self._limits_read = now
        return self._limits

    # -- internals --------------------------------------------------------------------------

    async def _upload(self, item: Any, index: int) -> str:
        await self._pacer.acquire()
        try:
            return await upload(
                self.http, item, poll_interval=self.poll_interval, max_wait=self.media_wait
            )
        except InvalidInput as error:
            raise InvalidInput(str(error), field=f"SocialPost.media[{index}]") from None
        except RateLimited as limited:
            self._pacer.lock_out(limited.retry_after if limited.retry_after is not None else 60.0)
            raise

    async def _request(
        self, method: str, path: str, *, write: bool, replying: bool = False, **options: Any
    ) -> HttpResponse:
        await self._pacer.acquire()
        response = await self.http.request(
            method, path, write=write, raise_for_status=False, **options
        )
        self._note_limits(response)
        self._raise_for(response, replying=replying)
        return response

    def _raise_for(self, response: HttpResponse, *, replying: bool = False) -> None:
        try:
            raise_for(response, self.http, replying=replying)
        except RateLimited as limited:  # Mastodon limits the account: every poster of it waits
            self._pacer.lock_out(limited.retry_after if limited.retry_after is not None else 60.0)
            raise

    def _note_limits(self, response: HttpResponse) -> None:
        """A spent window (``X-RateLimit-Remaining: 0``) holds every poster until its reset."""
        lowered = {k.lower(): v for k, v in response.headers.items()}
        if lowered.get("x-ratelimit-remaining", "").strip() != "0" or response.status == 429:
            return
        wait = reset_wait(response.headers)
        self._pacer.hold(wait if wait is not None else 1.0)

    def _receipt(self, response: HttpResponse) -> PostReceipt:
        body: Any = response.json()
        status_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(status_id, str) or not status_id:
            raise Ambiguous(
                f"mastodon: HTTP {response.status} without a status id "
                f"({response.detail()!r}); the post may have been published",
                provider="mastodon",
            )
        url = body.get("url") or body.get("uri")
        self._log.debug("published status {}", status_id)
        return PostReceipt(post_id=status_id, url=url if isinstance(url, str) else None)
