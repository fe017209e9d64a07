"""Helpers for fakes of HTTP services on a local pytest-httpserver (no internet needed).

``pytest-httpserver`` (and werkzeug, which it brings) must be installed: it is a test
dependency of the plugins, never of the core.

- :func:`threaded_server` starts a threaded server, so an answer held past a provider's
  timeout does not delay the next request;
- :class:`HttpFailures` gives a fake the conformance suites' ``fail_next(kind)``: the next
  request, whatever its path, gets the answer scripted for ``kind``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer
    from werkzeug import Request, Response

__all__ = ["HttpFailures", "threaded_server"]

#: (status, JSON body or text, headers)
Answer = tuple[int, Any, Mapping[str, str]]


@contextmanager
def threaded_server() -> Iterator[HTTPServer]:
    """A started, threaded local server on 127.0.0.1; stopped on exit."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


class HttpFailures:
    """``fail_next(kind)`` for a fake on ``server``.

    ``answers`` maps each failure kind the service can produce to its answer. The kind
    ``unknown_outcome`` needs no entry: the next request is answered ``200 {}`` after
    ``late`` seconds, which must be well past the provider's timeout. A kind without an
    answer raises :class:`NotImplementedError` (the suite skips it).
    """

    def __init__(
        self, server: HTTPServer, answers: Mapping[str, Answer], *, late: float = 3.0
    ) -> None:
        self.server = server
        self.answers = dict(answers)
        self.late = late

    def fail_next(self, kind: str) -> None:
        delay = 0.0
        if kind in self.answers:
            status, body, headers = self.answers[kind]
        elif kind == "unknown_outcome":
            status, body, headers, delay = 200, {}, {}, self.late
        else:
            raise NotImplementedError("the service's documentation gives no answer for it")

        def answer(request: Request) -> Response:
            from werkzeug import Response

            time.sleep(delay)
            text = body if isinstance(body, str) else json.dumps(body)
            kind = "text/plain" if isinstance(body, str) else "application/json"
            return Response(text, status, dict(headers), content_type=kind)

        # one-shot handlers are tried before the fake's permanent ones
        self.server.expect_oneshot_request("").respond_with_handler(answer)
