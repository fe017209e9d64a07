"""A real webhook receiver on a local HTTP server (pytest-httpserver) and a fake resolver.

The receiver verifies every request with the reference Standard Webhooks package
(``standardwebhooks.Webhook(secret).verify(body, headers)``, from
github.com/standard-webhooks/standard-webhooks, ``libraries/python``): a request it cannot
verify is answered 401 and recorded as unverified, so every test that delivers also proves the
signature. Like a careful receiver it drops a ``webhook-id`` it has already processed (and
answers 200). Failures are scripted per path: a status with headers, a slow answer (processing
first, then waiting), or a connection reset.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook, WebhookVerificationError
from werkzeug import Request, Response

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]

#: a Standard Webhooks secret: "whsec_" + base64 of 32 bytes
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PATHS = ("/hooks/a", "/hooks/b", "/hooks/c")


@attrs.define
class Script:
    status: int = 200
    headers: dict[str, str] = attrs.Factory(dict)
    body: str = ""
    #: seconds to wait before answering, after processing the event
    delay: float = 0.0
    #: reset the connection instead of answering (after processing the event)
    reset: bool = False
    #: process the event (count it as received) before answering
    process: bool = False


@attrs.frozen
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


class Receiver:
    """Receives, verifies and de-duplicates webhooks on several paths of one local server."""

    def __init__(self, server: HTTPServer, secret: str = SECRET) -> None:
        self.server = server
        self.webhook = Webhook(secret)
        self.requests: list[Received] = []
        #: events processed: (path, webhook-id, payload); a repeated id is not processed again
        self.processed: list[tuple[str, str, Any]] = []
        self._scripts: dict[str, list[Script]] = {}
        self._lock = threading.Lock()
        for path in PATHS:
            server.expect_request(path, method="POST").respond_with_handler(self._handle)

    def url(self, path: str = PATHS[0]) -> str:
        return self.server.url_for(path)

    def answer(self, path: str, status: int = 200, **options: Any) -> None:
        """Answer the next request to ``path`` like this (see :class:`Script`); calls queue up."""
        self._scripts.setdefault(path, []).append(Script(status, **options))

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def ids(self, path: str) -> list[str]:
        return [r.headers.get("webhook-id", "") for r in self.on(path)]

    def _handle(self, request: Request) -> Response:
        body = request.get_data()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            payload = self.webhook.verify(body, headers)
            verified = True
        except WebhookVerificationError:
            payload, verified = None, False
        with self._lock:
            self.requests.append(Received(request.path, headers, body, verified))
            queue = self._scripts.get(request.path)
            script = queue.pop(0) if queue else None
        if not verified:
            return Response('{"error": "bad signature"}', status=401)
        if script is None or script.process or script.reset or script.delay:
            self._process(request.path, headers["webhook-id"], payload)
        if script is None:
            return Response('{"status": "success"}', status=200, content_type="application/json")
        time.sleep(script.delay)
        if script.reset:
            _reset(request)
        return Response(script.body, status=script.status, headers=script.headers)

    def _process(self, path: str, message_id: str, payload: Any) -> None:
        with self._lock:
            if any(p == path and i == message_id for p, i, _ in self.processed):
                return
            self.processed.append((path, message_id, payload))


def _reset(request: Request) -> None:
    """Drop the client's connection instead of answering: shut down, then reset when closed.

    ``SO_LINGER`` 0 makes the server's close a TCP reset; the shutdown ends the connection at
    once (the server's own file objects keep the socket open until the handler returns).
    """
    sock = request.environ.get("werkzeug.socket")
    assert isinstance(sock, socket.socket), "the server does not expose its socket"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def receiver(threaded_httpserver: HTTPServer) -> Receiver:
    return Receiver(threaded_httpserver)


@pytest.fixture
def settings(receiver: Receiver) -> dict[str, Any]:
    """Keys for an endpoint on the local receiver (loopback, so ``allow_private`` is on)."""
    return {"url": receiver.url(), "secret": SECRET, "allow_private": True, "timeout": 5.0}


class FakeResolver:
    """Answers from a script, one answer per lookup (the last one repeats); counts lookups."""

    def __init__(self, *answers: Sequence[str] | BaseException) -> None:
        self.answers = list(answers)
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append((host, port))
        answer = self.answers[min(len(self.lookups), len(self.answers)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def resolver_for() -> type[FakeResolver]:
    """``resolver_for(["93.184.216.34"], ["127.0.0.1"])``: a resolver answering in that order."""
    return FakeResolver
