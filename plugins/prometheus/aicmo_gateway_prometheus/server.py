"""The plugin's own HTTP endpoint: the registry in the text format, from one thread.

A plain ``wsgiref`` server: it answers one scrape at a time, binds without a reverse DNS lookup
of its address (``HTTPServer.server_bind`` would do one), and logs nothing.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, make_wsgi_app

__all__ = ["MetricsServer"]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(WSGIServer):
    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()


class _Server6(_Server):
    address_family = socket.AF_INET6


class MetricsServer:
    """An endpoint serving one registry; ``close()`` stops it and frees the port."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @classmethod
    def start(cls, registry: CollectorRegistry, port: int, addr: str) -> MetricsServer:
        server_class = _Server6 if ":" in addr else _Server
        server = server_class((addr, port), _QuietHandler)
        server.set_app(make_wsgi_app(registry))
        thread = threading.Thread(
            target=server.serve_forever, name="aicmo-gateway-prometheus", daemon=True
        )
        thread.start()
        return cls(server, thread)

    @property
    def addr(self) -> str:
        return self._server.server_name

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
