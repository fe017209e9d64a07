"""A real IMAP server for the tests: pymap (in-memory ``dict`` backend) in a subprocess.

One server per test session on 127.0.0.1 and an ephemeral port, with a TLS
certificate from a throw-away CA (trustme) so that STARTTLS is offered. Each
test gets its own fresh mailbox; messages are APPENDed and flags read through
the server with the standard library's ``imaplib``. A small TCP forwarder puts
TLS in front of the server (pymap itself speaks only STARTTLS) or hides its
IDLE capability.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trustme
from aicmo_gateway_imap.fetcher import ImapReplyFetcher

from aicmo_gateway.testing.conformance import ReplyFetcherConformance

USER = "sales@example.com"
PASSWORD = "correct horse battery staple"
HOST = "127.0.0.1"


@attrs.frozen
class Server:
    port: int
    ca_file: Path
    ca: trustme.CA
    cert: trustme.LeafCert
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _greets(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as conn:
            return conn.recv(100).startswith(b"* OK")
    except OSError:
        return False


def _start_pymap(cert: Path, key: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    for _ in range(5):  # the port may be taken between probing and binding
        port = _free_port()
        args = [
            sys.executable, "-c", "from pymap.main import main; main()",
            "--host", HOST, "--port", str(port), "--cert", str(cert), "--key", str(key),
            "--no-service", "admin", "--no-service", "managesieve", "--no-service", "swim",
            "dict", "--demo-user", USER, "--demo-password", PASSWORD,
        ]  # fmt: skip
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "FQDN": "localhost"}
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if _greets(port):
                return proc, port
            time.sleep(0.1)
        proc.kill()
        proc.wait()
    raise RuntimeError(f"pymap did not start; see {log}:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def imap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("pymap")
    ca = trustme.CA()
    cert = ca.issue_cert(HOST, "localhost")
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_file), append=True)
    cert.private_key_pem.write_to_path(str(key_file))
    proc, port = _start_pymap(cert_file, key_file, folder / "pymap.log")
    try:
        yield Server(port, ca_file, ca, cert, folder / "pymap.log")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Mailroom:
    """The test's side of the server: create mailboxes, APPEND messages, read flags."""

    def __init__(self, server: Server, mailbox: str) -> None:
        self.server = server
        self.mailbox = mailbox

    @contextlib.contextmanager
    def connection(self) -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4(HOST, self.server.port, timeout=10)
        try:
            imap.login(USER, PASSWORD)
            yield imap
        finally:
            with contextlib.suppress(Exception):
                imap.logout()
            # logout closes the socket only when the server answers it; close it anyway, so
            # no socket is left for the garbage collector to warn about in a later test
            with contextlib.suppress(Exception):
                imap.shutdown()

    def create(self) -> None:
        with self.connection() as imap:
            status, data = imap.create(self.mailbox)
            assert status == "OK", data

    def delete(self) -> None:
        with self.connection() as imap:
            imap.delete(self.mailbox)

    def recreate(self) -> None:
        """Delete and create the mailbox again: the server gives it a new UIDVALIDITY."""
        self.delete()
        self.create()

    def deliver(self, raw: bytes, flags: str | None = None) -> None:
        with self.connection() as imap:
            status, data = imap.append(self.mailbox, flags, None, raw)
            assert status == "OK", data

    def flags(self) -> list[str]:
        """The FLAGS of every message, in order (read-only, so nothing changes)."""
        with self.connection() as imap:
            status, _ = imap.select(self.mailbox, readonly=True)
            assert status == "OK"
            status, data = imap.fetch("1:*", "(FLAGS)")
            assert status == "OK", data
            found = [re.search(rb"FLAGS \(([^)]*)\)", line) for line in data if line]
            return [m.group(1).decode() for m in found if m]

    def uidvalidity(self) -> int:
        with self.connection() as imap:
            status, data = imap.status(self.mailbox, "(UIDVALIDITY)")
            assert status == "OK"
            found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
            assert found
            return int(found.group(1))


@pytest.fixture
def mailroom(imap_server: Server) -> Iterator[Mailroom]:
    room = Mailroom(imap_server, f"Replies-{uuid.uuid4().hex[:12]}")
    room.create()
    yield room
    room.delete()


@pytest.fixture
def make_fetcher(
    imap_server: Server, mailroom: Mailroom
) -> Iterator[Callable[..., ImapReplyFetcher]]:
    """Build fetchers for the test's mailbox (plain connection unless overridden)."""
    made: list[ImapReplyFetcher] = []

    def make(**overrides: Any) -> ImapReplyFetcher:
        settings: dict[str, Any] = {
            "host": HOST,
            "port": imap_server.port,
            "security": "none",
            "username": USER,
            "password": PASSWORD,
            "mailbox": mailroom.mailbox,
            "timeout": 10.0,
        }
        settings.update(overrides)
        fetcher = ImapReplyFetcher.from_settings(**settings)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


class Forwarder:
    """Relays TCP connections to the server, optionally ending TLS or rewriting replies."""

    def __init__(
        self,
        target: int,
        *,
        tls: ssl.SSLContext | None = None,
        rewrite: Callable[[bytes], bytes] | None = None,
        split_delay: float | None = None,
    ) -> None:
        self.target = target
        self.tls = tls
        self.rewrite = rewrite or (lambda data: data)
        self.split_delay = split_delay
        self.listener = socket.create_server((HOST, 0))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._spawn(self._accept)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self.threads.append(thread)
        thread.start()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self.sockets.append(sock)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self._keep(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            client: socket.socket = conn
            if self.tls is not None:
                client = self.tls.wrap_socket(conn, server_side=True)
                self._keep(client)
            upstream = socket.create_connection((HOST, self.target))
            self._keep(upstream)
        except OSError:  # e.g. the client refused our certificate
            return
        if self.split_delay is not None:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._spawn(self._pump, upstream, client, self.rewrite, self.split_delay)
        self._pump(client, upstream, lambda data: data)

    @staticmethod
    def _pump(
        source: socket.socket,
        sink: socket.socket,
        rewrite: Callable[[bytes], bytes],
        split_delay: float | None = None,
    ) -> None:
        try:
            while data := source.recv(65536):
                if split_delay is None:
                    sink.sendall(rewrite(data))
                    continue
                for piece in split_lines(rewrite(data)):
                    sink.sendall(piece)
                    time.sleep(split_delay)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def drop_connections(self) -> None:
        """Cut every relayed connection, as a network failure would; keep listening."""
        with self._lock:
            sockets = list(self.sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        with self._lock:
            sockets, threads = list(self.sockets), list(self.threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in threads:
            thread.join(5)


#: what a real IMAP server sends for each failure of the conformance suites that IMAP has
SCRIPTED_REPLIES = {
    # Gmail's answer to a wrong password (RFC 5530 response code)
    "bad_credentials": b"NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
    # the greeting of a server going down for maintenance (RFC 3501 7.1.5, RFC 5530)
    "service_down": b"* BYE [UNAVAILABLE] Server shutting down for maintenance",
    # a LOGIN refused because the authentication backend is down (RFC 5530 UNAVAILABLE)
    "login_unavailable": b"NO [UNAVAILABLE] Temporary authentication failure",
}
#: the kinds answered at LOGIN, instead of the server's answer
AT_LOGIN = ("bad_credentials", "login_unavailable")
#: why the other failures cannot be produced by an IMAP server for a read
NOT_IN_IMAP = {
    "rate_limited": "IMAP has no reply that asks a client to slow down",
    "quota_spent": "IMAP quotas limit storage, which a read does not use",
    "invalid_input": "a read's only input is the cursor, checked by the suite's cursor tests",
}


class ScriptedForwarder(Forwarder):
    """The server behind a relay that fails the next connection as the conformance suites ask.

    ``fail_next("bad_credentials")`` answers that connection's LOGIN with ``NO
    [AUTHENTICATIONFAILED]``; ``"service_down"`` greets it with ``* BYE`` and hangs up;
    ``"unknown_outcome"`` drops it once the client has sent EXAMINE (a request with no answer).
    Beyond the suites' kinds, ``"login_unavailable"`` answers LOGIN with ``NO [UNAVAILABLE]``
    and ``"drop_at_login"`` drops the connection when LOGIN is sent.
    """

    def __init__(self, target: int, *, encrypted: bool = False) -> None:
        self.scripted: str | None = None
        #: the client starts TLS through the relay, which then cannot read its commands
        self.encrypted = encrypted
        super().__init__(target)

    def fail_next(self, kind: str) -> None:
        if kind in NOT_IN_IMAP:
            raise NotImplementedError(NOT_IN_IMAP[kind])
        if self.encrypted and kind != "service_down":
            raise NotImplementedError(
                "the relay cannot read commands inside TLS; the plain connection's suite "
                f"checks {kind}"
            )
        self.scripted = kind

    def _serve(self, conn: socket.socket) -> None:
        kind, self.scripted = self.scripted, None
        if kind is None:
            super()._serve(conn)
            return
        if kind == "service_down":
            with contextlib.suppress(OSError):
                conn.sendall(SCRIPTED_REPLIES[kind] + b"\r\n")
                conn.shutdown(socket.SHUT_RDWR)
            return
        try:
            upstream = socket.create_connection((HOST, self.target))
        except OSError:
            return
        self._keep(upstream)
        self._spawn(self._pump, upstream, conn, self.rewrite)
        try:
            while data := conn.recv(65536):
                command = re.match(rb"(\S+) (LOGIN|EXAMINE|SELECT) ", data)
                verb = command.group(2) if command else None
                if kind in AT_LOGIN and verb == b"LOGIN":
                    assert command is not None
                    conn.sendall(command.group(1) + b" " + SCRIPTED_REPLIES[kind] + b"\r\n")
                    continue
                if kind == "unknown_outcome" and verb in (b"EXAMINE", b"SELECT"):
                    break  # sent, never answered: the connection drops
                if kind == "drop_at_login" and verb == b"LOGIN":
                    break
                upstream.sendall(data)
        except OSError:
            pass
        for sock in (conn, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def scripted_server(imap_server: Server) -> Iterator[ScriptedForwarder]:
    """The server as one whose next connection fails as asked (``fail_next(kind)``)."""
    forwarder = ScriptedForwarder(imap_server.port)
    yield forwarder
    forwarder.close()


@pytest.fixture
def scripted_tls_server(imap_server: Server) -> Iterator[ScriptedForwarder]:
    """:func:`scripted_server` for clients that start TLS through it (STARTTLS)."""
    forwarder = ScriptedForwarder(imap_server.port, encrypted=True)
    yield forwarder
    forwarder.close()


@pytest.fixture
def make_forwarder(imap_server: Server) -> Iterator[Callable[..., Forwarder]]:
    """Build forwarders to the server (``tls=`` context, ``rewrite=`` of its replies)."""
    made: list[Forwarder] = []

    def make(**options: Any) -> Forwarder:
        forwarder = Forwarder(imap_server.port, **options)
        made.append(forwarder)
        return forwarder

    yield make
    for forwarder in made:
        forwarder.close()


@pytest.fixture
def tls_forwarder(imap_server: Server, make_forwarder: Callable[..., Forwarder]) -> Forwarder:
    """Implicit TLS (as on port 993) in front of the server, with the test CA's certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    imap_server.cert.configure_cert(context)
    return make_forwarder(tls=context)


def split_lines(data: bytes) -> list[bytes]:
    """``data`` in pieces that each end in the middle of a line (``* 2 EX``, ``ISTS``)."""
    pieces: list[bytes] = []
    for line in data.splitlines(keepends=True):
        middle = max(1, len(line) // 2)
        pieces += [line[:middle], line[middle:]] if len(line) > 1 else [line]
    return pieces


@pytest.fixture
def splitting_forwarder(make_forwarder: Callable[..., Forwarder]) -> Forwarder:
    """The server as one whose every response line arrives in two TCP segments, 10 ms apart,
    as real servers and networks may deliver them."""
    return make_forwarder(split_delay=0.01)


def without(capability: bytes) -> Callable[[bytes], bytes]:
    """A rewrite that hides one capability from the client."""
    return lambda data: data.replace(b" " + capability, b"")


@pytest.fixture
def no_idle_forwarder(make_forwarder: Callable[..., Forwarder]) -> Forwarder:
    """The server as one without the IDLE capability."""
    return make_forwarder(rewrite=without(b"IDLE"))


@pytest.fixture
def no_starttls_forwarder(make_forwarder: Callable[..., Forwarder]) -> Forwarder:
    """The server as one without the STARTTLS capability."""
    return make_forwarder(rewrite=without(b"STARTTLS"))


def message(n: int, **headers: str) -> bytes:
    """A small reply, numbered ``n``; extra headers by keyword (``In_Reply_To=...``)."""
    return ReplyFetcherConformance.raw(n, **headers)


@pytest.fixture
def raw_message() -> Callable[..., bytes]:
    return message
