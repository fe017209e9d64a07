"""A real SMTP server (aiosmtpd) on 127.0.0.1, in its own thread, with test TLS certificates.

``smtp_server(...)`` starts one on an ephemeral port and stops it after the
test. Its handler records every message it accepted, and can refuse chosen
recipients, answer the content with a chosen reply, drop the connection after
the message content, or answer MAIL on
a reused session with 421 (as a server that timed the session out). The
server counts the TCP connections it accepted and the QUITs it received.

``server.fail_next(kind)`` scripts one of the conformance suites' failures for the next
transaction (:data:`SCRIPTED`): the replies real servers give for them.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import gc
import ssl
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import attrs
import pytest
import trustme
from aiosmtpd.smtp import SMTP as SMTPServerProtocol
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "sales@example.com"
PASSWORD = "s3cret-app-password"

#: each failure of the conformance suites as a server shows it: (the step, the server's reply);
#: ``drop`` closes the connection instead of answering
SCRIPTED = {
    # Gmail's reply to a wrong password
    "bad_credentials": ("auth", "535 5.7.8 Username and Password not accepted"),
    # Postfix's reply when a client sends too fast (anvil rate limit)
    "rate_limited": ("mail", "450 4.7.1 Error: too many messages, slow down"),
    # Gmail's reply once the account's daily sending limit is used up
    "quota_spent": ("mail", "550 5.4.5 Daily user sending limit exceeded"),
    # a content filter rejecting the message itself
    "invalid_input": ("content", "554 5.6.0 Message rejected: malformed MIME structure"),
    # the server accepts the TCP connection and closes it before its greeting (a crashed or
    # overloaded daemon behind a load balancer)
    "service_down": ("connect", "drop"),
    # the message content was sent; the connection drops before the final reply
    "unknown_outcome": ("content", "drop"),
}


@attrs.define
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    over_tls: bool
    authenticated: bool

    def parsed(self) -> MimeMessage:
        # as a mailbox stores it: local line ends
        parsed = email.message_from_bytes(
            self.content.replace(b"\r\n", b"\n"), policy=email.policy.default
        )
        assert isinstance(parsed, MimeMessage)
        return parsed


class Handler:
    """aiosmtpd hooks: record messages; misbehave on request."""

    def __init__(
        self,
        *,
        reject: tuple[str, ...] = (),
        drop_after_content: bool = False,
        expire_reused_sessions: bool = False,
        content_reply: str | None = None,
    ) -> None:
        self.reject = set(reject)
        #: answer the message content with this reply instead of accepting it
        self.content_reply = content_reply
        self.drop_after_content = drop_after_content
        self.expire_reused_sessions = expire_reused_sessions
        self.messages: list[Received] = []
        self.quits = 0
        #: the scripted failure for the next transaction: (step, reply), see SCRIPTED
        self.scripted: tuple[str, str] | None = None
        self._mails_per_session: dict[int, int] = {}

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        count = self._mails_per_session.get(id(session), 0) + 1
        self._mails_per_session[id(session)] = count
        if (reply := self.take("mail")) is not None:
            return reply
        if self.expire_reused_sessions and count > 1:
            return "421 4.4.2 localhost Error: timeout exceeded"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def take(self, step: str) -> str | None:
        """The scripted reply for ``step``, once; ``None`` when nothing is scripted there."""
        if self.scripted is None or self.scripted[0] != step:
            return None
        reply = self.scripted[1]
        self.scripted = None
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        scripted = self.take("content")
        if scripted == "drop" or self.drop_after_content:
            server.transport.close()
            return "451 4.3.0 never seen by the client"
        if scripted is not None:
            return scripted
        if self.content_reply is not None:
            return self.content_reply
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content,
                server.transport.get_extra_info("sslcontext") is not None,
                bool(session.authenticated),
            )
        )
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"


class LocalSmtpServer:
    """aiosmtpd on 127.0.0.1 and an ephemeral port, in a thread with its own event loop."""

    host = "127.0.0.1"

    def __init__(
        self,
        handler: Handler,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.handler = handler
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.credentials = credentials
        self.port = 0
        #: TCP connections accepted
        self.connections = 0
        self._sessions: list[SMTPServerProtocol] = []
        #: every socket transport the server accepted, aborted at shutdown whatever state the
        #: session's TLS layer is in
        self._sockets: list[asyncio.BaseTransport] = []
        #: the AUTH refusal scripted for a session (by id), for every mechanism tried on it
        self._refused: dict[int, str] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="test-smtpd", daemon=True)
        self._ready = threading.Event()

    def fail_next(self, kind: str) -> None:
        """Fail the next transaction as the conformance suites' ``kind`` (see SCRIPTED)."""
        self.handler.scripted = SCRIPTED[kind]

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if (reply := self.handler.take("auth")) is not None:
            self._refused[id(session)] = reply
        if (refusal := self._refused.get(id(session))) is not None:
            # every mechanism the client tries on this connection is refused, as a wrong
            # password would be
            return AuthResult(success=False, handled=False, message=refusal)
        ok = isinstance(data, LoginPassword) and self.credentials == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def _factory(self) -> asyncio.Protocol:
        self.connections += 1
        if self.handler.take("connect") is not None:
            return _Hangup()
        protocol = SMTPServerProtocol(
            self.handler,
            hostname="localhost",
            tls_context=self.starttls,
            authenticator=self._authenticate if self.credentials else None,
            # aiosmtpd only knows about TLS it negotiated itself (STARTTLS); with implicit
            # TLS every byte is already encrypted, so AUTH may be offered at once
            auth_require_tls=self.implicit_tls is None,
            loop=self._loop,
        )
        self._sessions.append(protocol)
        made = protocol.connection_made

        def connection_made(transport: asyncio.BaseTransport) -> None:
            self._keep_socket(transport)
            made(transport)

        protocol.connection_made = connection_made  # type: ignore[method-assign]
        return protocol

    def _keep_socket(self, transport: asyncio.BaseTransport) -> None:
        # with implicit TLS (and after STARTTLS) the session sees the TLS layer's transport;
        # the socket's own transport is below it, and a TLS layer closed twice forgets it
        ssl_protocol = getattr(transport, "_ssl_protocol", None)
        self._sockets.append(getattr(ssl_protocol, "_transport", None) or transport)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(self._factory, self.host, 0, ssl=self.implicit_tls)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(self._shutdown())
        self._loop.close()

    async def _shutdown(self) -> None:
        # abort, not close: a graceful TLS close waits for the client's close_notify, which may
        # not come before this loop closes, leaving the socket to be reclaimed (and warned
        # about) by the garbage collector during whatever test runs next
        for protocol in self._sessions:
            if protocol.transport is not None:
                protocol.transport.abort()
        for transport in self._sockets:
            transport.abort()  # a no-op on one already closed
        await asyncio.sleep(0)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def drop_connections(self) -> None:
        """Close every open connection from the server's side (as an idle timeout would)."""

        def drop() -> None:
            for protocol in self._sessions:
                if protocol.transport is not None:
                    protocol.transport.close()

        self._loop.call_soon_threadsafe(drop)

    def start(self) -> LocalSmtpServer:
        self._thread.start()
        assert self._ready.wait(5), "the test SMTP server did not start"
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages


class _Hangup(asyncio.Protocol):
    """A server that closes each connection it accepts before greeting."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()


@attrs.frozen
class Tls:
    """A test CA, a server context for 127.0.0.1 and the CA bundle's path for clients."""

    server_context: ssl.SSLContext
    ca_file: Path


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Tls(context, ca_file)


StartServer = Callable[..., LocalSmtpServer]


@pytest.fixture
def smtp_server(tls: Tls) -> Iterator[StartServer]:
    """Start servers: ``smtp_server(mode="starttls"|"tls"|"plain", auth=True, **handler)``."""
    started: list[LocalSmtpServer] = []

    def start(mode: str = "starttls", *, auth: bool = True, **handler: Any) -> LocalSmtpServer:
        server = LocalSmtpServer(
            Handler(**handler),
            starttls=tls.server_context if mode == "starttls" else None,
            implicit_tls=tls.server_context if mode == "tls" else None,
            credentials=(USERNAME, PASSWORD) if auth else None,
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def settings_for(tls: Tls) -> Callable[..., dict[str, Any]]:
    """Config keys for a sender talking to a test server, as a config file would give them."""

    def make(server: LocalSmtpServer, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "host": server.host,
            "port": server.port,
            "security": "tls" if server.implicit_tls else "starttls",
            "ca_file": str(tls.ca_file),
            "local_hostname": "client.example.com",
            "timeout": 5.0,
        }
        if server.credentials:
            values["username"], values["password"] = server.credentials
        if not (server.starttls or server.implicit_tls):
            values["security"] = "none"
        values.update(changes)
        return values

    return make


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect garbage after each test, so a leaked socket fails the test that leaked it."""
    yield
    gc.collect()
