"""A contract fake of the Resend API on a real local HTTP server (pytest-httpserver).

Written from Resend's documentation (resend.com/docs, fetched 2026-11):

- api-reference/emails/send-email and the OpenAPI file (github.com/resend/resend-openapi,
  ``resend.yaml``: ``POST /emails``, ``SendEmailRequest``, ``SendEmailResponse``)
- dashboard/emails/idempotency-keys: the ``Idempotency-Key`` header, 1 to 256 characters, kept
  24 hours; the same key and body gives the first response without sending again; the same key
  with another body is 409 ``invalid_idempotent_request``; a key still in flight is 409
  ``concurrent_idempotent_requests``
- api-reference/errors: ``{"statusCode", "name", "message"}``; 401 ``missing_api_key``,
  ``restricted_api_key``; 401 (send) and 400 (other endpoints) ``validation_error`` "API key is
  invalid"; 403 ``invalid_api_key``, ``invalid_from_address``; 422 ``missing_required_field``;
  429 ``rate_limit_exceeded``, ``daily_quota_exceeded``, ``monthly_quota_exceeded``; 5xx
  ``application_error``
- api-reference/rate-limit: ``ratelimit-limit``, ``ratelimit-remaining``, ``ratelimit-reset``
  and ``retry-after`` headers
- api-reference/domains/list-domains: ``GET /domains`` (refused to sending-only keys)

The fake "delivers" each accepted email by rendering it as an RFC 5322 message (what the
recipient's server would receive), so the core's email conformance suite can read it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP
from typing import Any

import attrs
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]

# each test gets its own keys: Resend's limits (and our lockouts) are per account
FULL_KEY = "re_full_4cc3ss_K3y_"
SENDING_KEY = "re_s3nding_only_K3y_"


@attrs.define
class Canned:
    status: int
    body: Any
    headers: dict[str, str] = attrs.Factory(dict)
    #: seconds to wait before answering (after processing the email, when ``process``)
    delay: float = 0.0
    #: handle the request normally first (the email is sent), then answer with this
    process: bool = False


def error(status: int, name: str, message: str) -> dict[str, Any]:
    return {"statusCode": status, "name": name, "message": message}


class FakeResend:
    """Resend's documented behaviour for ``POST /emails`` and ``GET /domains``."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        suffix = uuid.uuid4().hex[:12]
        self.full_key, self.sending_key = FULL_KEY + suffix, SENDING_KEY + suffix
        self.keys = {self.full_key: "full_access", self.sending_key: "sending_access"}
        #: every request received: (method, path, headers, JSON body or None)
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        #: accepted emails: (id, body)
        self.emails: list[tuple[str, dict[str, Any]]] = []
        self._replies: dict[str, tuple[str, int, Any]] = {}  # key -> (body digest, status, body)
        self._in_flight: set[str] = set()
        self._canned: list[Canned] = []
        self._lock = threading.Lock()
        #: the ``ratelimit-remaining`` value of normal answers
        self.remaining = 4
        server.expect_request("/emails", method="POST").respond_with_handler(self._emails)
        server.expect_request("/domains", method="GET").respond_with_handler(self._domains)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def answer_next(self, status: int, body: Any, **options: Any) -> None:
        """Answer the next request with this (after sending the email, with ``process=True``)."""
        self._canned.append(Canned(status, body, **options))

    def delivered(self) -> list[bytes]:
        return [render(body) for _, body in self.emails]

    # -- handlers --------------------------------------------------------------------------

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        base = {
            "ratelimit-limit": "5",
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": "1",
        }
        text = body if isinstance(body, str) else json.dumps(body)
        return Response(
            text,
            status=status,
            headers={**base, **(headers or {})},
            content_type="application/json",
        )

    def _record(self, request: Request) -> Any:
        try:
            body = json.loads(request.get_data()) if request.get_data() else None
        except ValueError:
            body = "<not JSON>"
        self.requests.append((request.method, request.path, dict(request.headers), body))
        return body

    def _auth(self, request: Request, *, sending: bool) -> Response | str:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self._reply(401, error(401, "missing_api_key", "Missing API key"))
        access = self.keys.get(header.removeprefix("Bearer "))
        if access is None:
            status = 401 if sending else 400
            return self._reply(status, error(status, "validation_error", "API key is invalid"))
        return access

    def _emails(self, request: Request) -> Response:
        body = self._record(request)
        canned = self._canned.pop(0) if self._canned else None
        if canned is not None and not canned.process:
            time.sleep(canned.delay)
            return self._reply(canned.status, canned.body, canned.headers)
        answer = self._send(request, body)
        if canned is not None:
            time.sleep(canned.delay)
            return self._reply(canned.status, canned.body, canned.headers)
        return answer

    def _send(self, request: Request, body: Any) -> Response:
        access = self._auth(request, sending=True)
        if isinstance(access, Response):
            return access
        if not isinstance(body, dict):
            return self._reply(422, error(422, "validation_error", "Invalid JSON body"))
        missing = [f for f in ("from", "to", "subject") if not body.get(f)]
        if missing:
            return self._reply(
                422,
                error(422, "missing_required_field", f"Missing `{missing[0]}` field."),
            )
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return self._accept(body)
        if not 1 <= len(key) <= 256:
            return self._reply(
                400, error(400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
            )
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if key in self._in_flight:
                return self._reply(
                    409,
                    error(
                        409,
                        "concurrent_idempotent_requests",
                        "Same idempotency key used while original request is still in progress.",
                    ),
                )
            stored = self._replies.get(key)
            if stored is not None:
                if stored[0] != digest:
                    return self._reply(
                        409,
                        error(
                            409,
                            "invalid_idempotent_request",
                            "Same idempotency key used with a different request payload.",
                        ),
                    )
                return self._reply(stored[1], stored[2])
            response = self._accept(body)
            self._replies[key] = (digest, response.status_code, json.loads(response.get_data()))
            return response

    def _accept(self, body: dict[str, Any]) -> Response:
        email_id = str(uuid.uuid4())
        self.emails.append((email_id, body))
        return self._reply(200, {"id": email_id})

    def _domains(self, request: Request) -> Response:
        self._record(request)
        if self._canned:
            canned = self._canned.pop(0)
            return self._reply(canned.status, canned.body, canned.headers)
        access = self._auth(request, sending=False)
        if isinstance(access, Response):
            return access
        if access == "sending_access":
            return self._reply(
                401,
                error(401, "restricted_api_key", "This API key is restricted to only send emails"),
            )
        return self._reply(200, {"object": "list", "has_more": False, "data": []})


def render(body: dict[str, Any]) -> bytes:
    """An accepted email as the recipient's server would receive it."""
    mime = MimeMessage()
    mime["From"] = body["from"]
    mime["To"] = ", ".join(_list(body["to"]))
    if body.get("cc"):
        mime["Cc"] = ", ".join(_list(body["cc"]))
    if body.get("reply_to"):
        mime["Reply-To"] = ", ".join(_list(body["reply_to"]))
    mime["Subject"] = body["subject"]
    for name, value in (body.get("headers") or {}).items():
        mime[name] = value
    if "Message-ID" not in mime:
        mime["Message-ID"] = f"<{uuid.uuid4()}@resend.dev>"
    if body.get("text"):
        mime.set_content(body["text"])
    if body.get("html"):
        if body.get("text"):
            mime.add_alternative(body["html"], subtype="html")
        else:
            mime.set_content(body["html"], subtype="html")
    for item in body.get("attachments") or []:
        maintype, _, subtype = item.get("content_type", "application/octet-stream").partition("/")
        mime.add_attachment(
            base64.b64decode(item["content"]),
            maintype=maintype,
            subtype=subtype,
            filename=item["filename"],
        )
    return mime.as_bytes(policy=SMTP)


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture
def resend(threaded_httpserver: HTTPServer) -> FakeResend:
    return FakeResend(threaded_httpserver)


@pytest.fixture
def settings(resend: FakeResend) -> dict[str, Any]:
    """Config keys for a sender talking to the fake, as a config file would give them."""
    return {"api_key": resend.full_key, "base_url": resend.url, "timeout": 5.0}
