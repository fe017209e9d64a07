"""Opening one SMTP session that is ready to send (connect, EHLO, TLS, AUTH) and closing it.

Each step's failure is translated into the gateway's errors here, so callers
never see a client library exception. The password is handed to the client
only for AUTH and never appears in an error.
"""

from __future__ import annotations

import contextlib
import ssl

from aiosmtplib import (
    SMTP,
    SMTPAuthenticationError,
    SMTPException,
    SMTPHeloError,
    SMTPResponseException,
)

from aicmo_gateway.errors import AuthError, ProviderError, Unavailable
from aicmo_gateway_smtp.classify import network_failure, reply_error
from aicmo_gateway_smtp.settings import SmtpSettings

__all__ = ["close_session", "make_tls_context", "open_session", "quit_session"]

#: seconds a polite QUIT may take before the connection is simply dropped
QUIT_TIMEOUT = 2.0


def make_tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """The TLS settings for implicit TLS and STARTTLS: system CAs or ``ca_file``."""
    context = ssl.create_default_context(cafile=settings.ca_file)
    if not settings.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def open_session(settings: SmtpSettings, tls: ssl.SSLContext | None) -> SMTP:
    """Connect, greet, secure and log in; raise ``Unavailable`` or ``AuthError`` on failure."""
    host, port, security = settings.server
    where = f"{host}:{port}"
    client = SMTP(
        hostname=host,
        port=port,
        local_hostname=settings.local_hostname,
        timeout=settings.timeout,
        use_tls=security == "tls",
        start_tls=False,
        tls_context=tls if security != "none" else None,
    )
    stage = "connect"
    try:
        await client.connect()
        stage = "ehlo"
        await _greet(client)
        if security in ("starttls", "opportunistic"):
            if client.supports_extension("starttls"):
                stage = "starttls"
                await client.starttls()
                stage = "ehlo"
                await _greet(client)
            elif security == "starttls":
                raise Unavailable(
                    f"{where} does not offer STARTTLS; set security = 'tls' if it expects TLS "
                    "from the first byte (port 465), or 'opportunistic' to send unencrypted"
                )
        if settings.username:
            stage = "auth"
            await _login(client, settings, where)
    except ProviderError:
        close_session(client)
        raise
    except SMTPResponseException as exc:
        close_session(client)
        if stage == "connect":
            stage = "greeting"
        raise reply_error(exc.code, exc.message, stage=stage, server=where) from None
    except (SMTPException, OSError, ssl.SSLError) as exc:
        close_session(client)
        raise network_failure(exc, stage=stage, server=where) from None
    except BaseException:
        close_session(client)
        raise
    return client


async def _greet(client: SMTP) -> None:
    try:
        await client.ehlo()
    except SMTPHeloError:
        if not client.is_connected:
            raise
        await client.helo()


async def _login(client: SMTP, settings: SmtpSettings, where: str) -> None:
    if not client.supports_extension("auth"):
        over_tls = client.get_transport_info("sslcontext") is not None
        if not over_tls:
            raise AuthError(
                f"{where} does not offer AUTH on an unencrypted connection (it needs TLS "
                "first); set security = 'starttls' or 'tls'"
            )
        raise AuthError(
            f"{where} does not offer AUTH; remove username and password if it relays "
            "without a login"
        )
    password = settings.password.reveal() if settings.password is not None else ""
    try:
        await client.login(settings.username or "", password)
    except SMTPAuthenticationError as exc:
        raise reply_error(exc.code, exc.message, stage="auth", server=where) from None
    except SMTPResponseException as exc:
        raise reply_error(exc.code, exc.message, stage="auth", server=where) from None
    except SMTPException as exc:
        if not client.is_connected:
            raise
        raise AuthError(
            f"{where}: no AUTH mechanism both sides support ({exc.message}); the server "
            f"offers: {', '.join(client.server_auth_methods) or 'none'}"
        ) from None


async def quit_session(client: SMTP) -> None:
    """Say QUIT and close; never raises (the connection is going away anyway)."""
    if client.is_connected:
        with contextlib.suppress(Exception):
            await client.execute_command(b"QUIT", timeout=QUIT_TIMEOUT)
    close_session(client)


def close_session(client: SMTP) -> None:
    """Drop the connection at once, without a word and without a TLS goodbye.

    A graceful TLS close waits for the server's answer, which may never come
    before the event loop ends, leaving the socket open; after QUIT (or when the
    session is broken) there is nothing left to say, so the socket is closed now.
    """
    transport = client.transport
    with contextlib.suppress(Exception):
        if transport is not None:
            transport.abort()  # type: ignore[attr-defined]
    with contextlib.suppress(Exception):
        client.close()
