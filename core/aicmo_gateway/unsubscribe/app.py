"""The unsubscribe endpoint as a plain ASGI application (no web framework needed).

``GET /<token>`` shows a page with a button (it never unsubscribes: link scanners fetch every
URL in a message); ``POST /<token>``, as mail providers send it for RFC 8058 one-click
(``List-Unsubscribe=One-Click``) or as the button sends it, suppresses the token's recipient.
The token is the last segment of the path, so the app works wherever it is mounted.
"""

from __future__ import annotations

import html
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aicmo_gateway.errors import NotConfigured
from aicmo_gateway.unsubscribe.token import Signer, TokenError, Unsubscription

if TYPE_CHECKING:
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.suppression import Suppression

__all__ = ["UnsubscribeApp"]

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]

_MAX_BODY = 16 * 1024
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem">
<h1>{title}</h1>
{body}
</body></html>
"""
_FORM = """<p>Stop sending email to <strong>{who}</strong>{what}?</p>
<form method="post" action="">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>"""


def _masked(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 1)}@{domain}"


class UnsubscribeApp:
    """``await app(scope, receive, send)``: the one-click unsubscribe endpoint."""

    def __init__(self, suppression: Suppression, signer: Signer) -> None:
        if not suppression.configured:
            raise NotConfigured(
                "the unsubscribe endpoint needs a suppression list: set [email] suppression"
            )
        self.suppression = suppression
        self.signer = signer

    def __repr__(self) -> str:
        return f"UnsubscribeApp({self.suppression!r})"

    @classmethod
    def from_gateway(cls, gateway: Gateway) -> UnsubscribeApp:
        """The endpoint for a gateway's ``[email]`` settings and suppression list."""
        email = gateway.config.email
        if email.unsubscribe_secret is None:
            raise NotConfigured(
                "the unsubscribe endpoint needs [email] unsubscribe_secret (the key the tokens "
                'are signed with): unsubscribe_secret = "${UNSUBSCRIBE_SECRET}"'
            )
        signer = Signer(email.unsubscribe_secret, email.unsubscribe_old_secrets)
        return cls(gateway.suppression, signer)

    @classmethod
    def from_config(
        cls, source: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
    ) -> UnsubscribeApp:
        """The endpoint for a config file (``AICMO_GATEWAY_CONFIG`` or ``./aicmo-gateway.toml``)."""
        from aicmo_gateway.gateway import Gateway

        return cls.from_gateway(Gateway.from_config(source, env=env))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method = scope.get("method", "GET")
        segments = [s for s in str(scope.get("path", "")).split("/") if s]
        token = segments[-1] if segments else ""
        if method not in ("GET", "HEAD", "POST"):
            await _respond(send, 405, "Not allowed", "<p>Use GET or POST.</p>", method)
            return
        if method == "POST" and not await _drained(receive):
            await _respond(send, 413, "Too large", "<p>The request body is too large.</p>")
            return
        try:
            wish = self.signer.read(token)
        except TokenError:
            await _respond(
                send,
                400,
                "Link not valid",
                "<p>This unsubscribe link is not valid. Use the link from the message as it "
                "was sent, or reply to the message asking to be removed.</p>",
                method,
            )
            return
        if method == "POST":
            await self._unsubscribe(wish, send)
            return
        what = f" about {html.escape(wish.list_id)}" if wish.list_id else ""
        form = _FORM.format(who=html.escape(_masked(wish.recipient)), what=what)
        await _respond(send, 200, "Unsubscribe", form, method)

    async def _unsubscribe(self, wish: Unsubscription, send: Send) -> None:
        source = "one-click" + (f" list {wish.list_id}" if wish.list_id else "")
        try:
            await self.suppression.add(wish.recipient, "unsubscribed", source)
        except Exception as exc:  # the list is unreachable: ask the client to try again
            from loguru import logger

            logger.error("could not record an unsubscribe: {}: {}", type(exc).__name__, exc)
            await _respond(
                send, 503, "Try again", "<p>Please try again in a few minutes.</p>", "POST"
            )
            return
        await _respond(
            send,
            200,
            "Unsubscribed",
            f"<p><strong>{html.escape(_masked(wish.recipient))}</strong> will get no more "
            "of these messages.</p>",
            "POST",
        )


async def _drained(receive: Receive) -> bool:
    """Read the request body to its end; ``False`` when it is larger than allowed."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return True
        size += len(message.get("body", b""))
        if size > _MAX_BODY:
            return False
        if not message.get("more_body", False):
            return True


async def _respond(send: Send, status: int, title: str, body: str, method: str = "GET") -> None:
    page = _PAGE.format(title=html.escape(title), body=body).encode("utf-8")
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page)).encode()),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-robots-tag", b"noindex"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if status == 405:
        headers.append((b"allow", b"GET, HEAD, POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else page})
