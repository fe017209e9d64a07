"""A contract fake of a Mastodon instance on a real local HTTP server (pytest-httpserver).

Written from Mastodon's documentation (docs.joinmastodon.org, fetched 2026-11):

- methods/statuses#create: ``POST /api/v1/statuses`` (``status``, ``media_ids``,
  ``in_reply_to_id``, ``sensitive``, ``spoiler_text``, ``visibility``, ``language``) answers the
  ``Status``; the ``Idempotency-Key`` header "prevents duplicate submissions of the same status"
  (stored for up to 1 hour): a repeated key answers the first status again; 422 for a text over
  the limit or unprocessed media; 404 for a missing ``in_reply_to_id``
- methods/media: ``POST /api/v2/media`` (multipart ``file``, ``description``) answers 200 with a
  ``url`` when processed, 202 with ``url: null`` while processing; ``GET /api/v1/media/:id``
  answers 206 while processing and 200 when done
- methods/instance#v2: ``GET /api/v2/instance``, ``configuration.statuses.max_characters``,
  ``characters_reserved_per_url``, ``max_media_attachments``, ``configuration.media_attachments``
- methods/accounts#verify_credentials; api/entities/Error (``{"error": "..."}``)
- api/rate-limits: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (an
  ISO 8601 time stamp) on every answer; 429 when the window is spent
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]

TOKEN = "mstdn_T0ken_s3cret_"


@attrs.define
class Canned:
    status: int
    body: Any
    headers: dict[str, str] = attrs.Factory(dict)
    #: seconds to wait before answering
    delay: float = 0.0
    #: handle the request normally first (the status is posted), then answer with this
    process: bool = False


#: the requests that perform an operation (a post, a check): where fail_next strikes
_OPERATIONS = ("/api/v1/statuses", "/api/v1/accounts/verify_credentials")


class FakeMastodon:
    """An instance with one account, as documented."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.token = TOKEN + uuid.uuid4().hex[:12]
        self.instance: dict[str, Any] = {
            "domain": "fake.social",
            "configuration": {
                "statuses": {
                    "max_characters": 500,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "supported_mime_types": ["image/png", "image/jpeg", "video/mp4"],
                    "image_size_limit": 16_777_216,
                    "video_size_limit": 103_809_024,
                },
            },
        }
        #: every request received: (method, path, headers)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: published statuses: the JSON bodies, with their ids
        self.statuses: list[dict[str, Any]] = []
        #: uploaded media: id -> {"description", "filename", "content", "polls_left"}
        self.media: dict[str, dict[str, Any]] = {}
        #: polls a new upload needs before it is processed (0: answered 200 at once)
        self.processing_polls = 0
        self.remaining = 299
        self._keys: dict[str, str] = {}
        self._canned: dict[str, list[Canned]] = {}
        self._scripted: list[Canned] = []
        self._lock = threading.Lock()
        self._counter = 100
        server.expect_request("/api/v2/instance").respond_with_handler(self._instance)
        server.expect_request("/api/v2/media", method="POST").respond_with_handler(self._upload)
        server.expect_request(re.compile(r"^/api/v1/media/\w+$")).respond_with_handler(self._poll)
        server.expect_request("/api/v1/statuses", method="POST").respond_with_handler(self._create)
        server.expect_request("/api/v1/accounts/verify_credentials").respond_with_handler(
            self._verify
        )

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def answer_next(self, path: str, status: int, body: Any, **options: Any) -> None:
        """Answer the next request to ``path`` with this."""
        self._canned.setdefault(path, []).append(Canned(status, body, **options))

    #: what ``fail_next`` answers (the conformance suite's failure kinds; Mastodon has no quota)
    FAILURES: ClassVar[dict[str, Canned]] = {
        "bad_credentials": Canned(401, {"error": "The access token is invalid"}),
        "rate_limited": Canned(429, {"error": "Too many requests"}),
        "invalid_input": Canned(422, {"error": "Validation failed: Text can't be blank"}),
        "service_down": Canned(503, "<html>maintenance</html>"),
        "unknown_outcome": Canned(200, {"id": "1"}, delay=3.0),  # past a 1 s timeout
    }

    def fail_next(self, kind: str) -> None:
        """Fail the next status post or credentials check as ``kind`` (the conformance suite)."""
        if kind not in self.FAILURES:
            raise NotImplementedError(kind)
        canned = self.FAILURES[kind]
        self._scripted.append(attrs.evolve(canned, headers=dict(canned.headers)))

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _ in self.requests if method is None or m == method]

    # -- plumbing --------------------------------------------------------------------------

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        base = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset,
        }
        text = body if isinstance(body, str) else json.dumps(body)
        return Response(
            text,
            status=status,
            headers={**base, **(headers or {})},
            content_type="application/json",
        )

    def _enter(self, request: Request) -> Response | Canned | None:
        self.requests.append((request.method, request.path, dict(request.headers)))
        key = "/api/v1/media/:id" if request.path.startswith("/api/v1/media/") else request.path
        queue = self._canned.get(key)
        canned = queue.pop(0) if queue else None
        if canned is None and self._scripted and key in _OPERATIONS:
            canned = self._scripted.pop(0)
        if canned is not None and not canned.process:
            time.sleep(canned.delay)
            return self._reply(canned.status, canned.body, canned.headers)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(401, {"error": "The access token is invalid"})
        return canned

    def _finish(self, canned: Canned | None, answer: Response) -> Response:
        if canned is None:
            return answer
        time.sleep(canned.delay)
        return self._reply(canned.status, canned.body, canned.headers)

    # -- handlers --------------------------------------------------------------------------

    def _instance(self, request: Request) -> Response:
        self.requests.append((request.method, request.path, dict(request.headers)))
        queue = self._canned.get(request.path)
        if queue:
            canned = queue.pop(0)
            return self._reply(canned.status, canned.body, canned.headers)
        return self._reply(200, self.instance)

    def _verify(self, request: Request) -> Response:
        entered = self._enter(request)
        if isinstance(entered, Response):
            return entered
        return self._reply(200, {"id": "1", "username": "sales", "acct": "sales"})

    def _upload(self, request: Request) -> Response:
        entered = self._enter(request)
        if isinstance(entered, Response):
            return entered
        upload = request.files.get("file")
        if upload is None:
            return self._reply(422, {"error": "Validation failed: File can't be blank"})
        with self._lock:
            self._counter += 1
            media_id = str(self._counter)
        self.media[media_id] = {
            "description": request.form.get("description"),
            "filename": upload.filename,
            "content_type": upload.mimetype,
            "content": upload.read(),
            "polls_left": self.processing_polls,
        }
        request.close()
        ready = self.processing_polls == 0
        return self._finish(entered, self._reply(200 if ready else 202, self._attachment(media_id)))

    def _attachment(self, media_id: str) -> dict[str, Any]:
        item = self.media[media_id]
        ready = item["polls_left"] <= 0
        return {
            "id": media_id,
            "type": "image",
            "url": f"{self.url}/media/{media_id}.png" if ready else None,
            "description": item["description"],
        }

    def _poll(self, request: Request) -> Response:
        entered = self._enter(request)
        if isinstance(entered, Response):
            return entered
        media_id = request.path.rsplit("/", 1)[1]
        item = self.media.get(media_id)
        if item is None:
            return self._reply(404, {"error": "Record not found"})
        item["polls_left"] -= 1
        status = 200 if item["polls_left"] <= 0 else 206
        return self._finish(entered, self._reply(status, self._attachment(media_id)))

    def _create(self, request: Request) -> Response:
        entered = self._enter(request)
        if isinstance(entered, Response):
            return entered
        body = json.loads(request.get_data() or b"{}")
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key is not None and key in self._keys:
                (status,) = [s for s in self.statuses if s["id"] == self._keys[key]]
                return self._finish(entered, self._reply(200, status))
            for media_id in body.get("media_ids", []):
                item = self.media.get(str(media_id))
                if item is None or item["polls_left"] > 0:
                    return self._reply(
                        422,
                        {
                            "error": "Cannot attach files that have not finished processing. "
                            "Try again in a moment!"
                        },
                    )
            reply_to = body.get("in_reply_to_id")
            if reply_to and reply_to not in {s["id"] for s in self.statuses}:
                return self._reply(404, {"error": "Record not found"})
            self._counter += 1
            status_id = str(self._counter)
            status = {
                "id": status_id,
                "uri": f"{self.url}/users/sales/statuses/{status_id}",
                "url": f"{self.url}/@sales/{status_id}",
                "content": f"<p>{body.get('status', '')}</p>",
                "visibility": body.get("visibility", "public"),
                "spoiler_text": body.get("spoiler_text", ""),
                "sensitive": bool(body.get("sensitive")),
                "language": body.get("language"),
                "in_reply_to_id": reply_to,
                "media_attachments": [self._attachment(str(m)) for m in body.get("media_ids", [])],
                "sent": body,
            }
            self.statuses.append(status)
            if key is not None:
                self._keys[key] = status_id
        return self._finish(entered, self._reply(200, status))


@pytest.fixture
def mastodon(threaded_httpserver: HTTPServer) -> FakeMastodon:
    return FakeMastodon(threaded_httpserver)


@pytest.fixture
def settings(mastodon: FakeMastodon) -> dict[str, Any]:
    """Config keys for a poster talking to the fake, as a config file would give them."""
    return {"instance_url": mastodon.url, "access_token": mastodon.token, "timeout": 5.0}
