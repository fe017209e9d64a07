"""``WebhookEndpoint``: the ``webhook_dispatch`` provider that POSTs signed events to one URL.

Each delivery: the event's JSON (:meth:`WebhookEvent.to_json`, UTF-8) is signed with the
Standard Webhooks headers (``webhook-id`` is the call's idempotency key, so a receiver drops a
repeated delivery), the host is resolved once through the SSRF guard, and the request goes to
that address with the URL's name in ``Host`` and in TLS (SNI and certificate check). Redirects
are not followed. Only a 2xx answer is a delivery; see :mod:`aicmo_gateway_webhooks.answers`
for the rest. After a 410 the endpoint is disabled for the life of the provider: every later
dispatch raises ``AuthError`` without sending, so the chain skips it and ``status`` shows why.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

from loguru import logger

from aicmo_gateway import AuthError, Secret
from aicmo_gateway.http import HttpClient
from aicmo_gateway.ports import DeliveryReceipt, WebhookEvent
from aicmo_gateway_webhooks.answers import Gone, raise_for
from aicmo_gateway_webhooks.guard import Resolver, pin, system_resolver
from aicmo_gateway_webhooks.settings import WebhookSettings, origin_of
from aicmo_gateway_webhooks.signing import decode_secret, sign, webhook_id

__all__ = ["MAX_RESPONSE_BYTES", "PROVIDER", "WebhookEndpoint"]

PROVIDER = "webhook"
#: the most of an answer read: receivers' bodies are only quoted in errors
MAX_RESPONSE_BYTES = 256 * 1024


class WebhookEndpoint:
    """Delivers events to one endpoint.

    ``resolver``, ``transport`` and ``verify`` are for tests and special networks: the
    resolver answers ``(host, port) -> addresses`` (default: the system's), ``verify`` is
    httpx's TLS verification (e.g. an ``ssl.SSLContext`` trusting a private CA).
    """

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        resolver: Resolver | None = None,
        transport: Any = None,
        verify: Any = True,
        clock: Any = time.time,
    ) -> None:
        self.settings = settings
        self._key = decode_secret(settings.secret.reveal())
        parts = urlsplit(settings.url)
        self._scheme = parts.scheme
        try:  # an internationalised name travels in its ASCII (IDNA) form
            self._host = (parts.hostname or "").rstrip(".").encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("url: the host is not a valid internationalised name") from None
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        default_port = self._port == (443 if parts.scheme == "https" else 80)
        host_header = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = host_header if default_port else f"{host_header}:{self._port}"
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.endpoint = origin_of(settings.url)
        # the path and query of a catch-hook URL are its credential: masked like a secret
        secrets: list[str | Secret] = [settings.secret, settings.url]
        if len(self._target) >= 8:
            secrets.append(self._target)
        self.http = HttpClient(
            self.endpoint,
            timeout=settings.timeout,
            headers=dict(settings.headers),
            secrets=secrets,
            provider=PROVIDER,
            max_response_bytes=MAX_RESPONSE_BYTES,
            transport=transport,
            verify=verify,
        )
        self._resolver = resolver or system_resolver
        self._clock = clock
        self._gone: str | None = None
        self._log = logger.bind(provider_type=PROVIDER)

    def __repr__(self) -> str:
        return f"WebhookEndpoint({self.endpoint!r}, preset={self.settings.preset!r})"

    @property
    def disabled(self) -> str | None:
        """Why the endpoint is disabled (it answered 410 Gone), or None."""
        return self._gone

    # -- the port --------------------------------------------------------------------------

    async def dispatch(
        self, event: WebhookEvent, *, idempotency_key: str | None = None
    ) -> DeliveryReceipt:
        self._refuse_if_gone()
        body = event.to_json().encode("utf-8")
        key = event.id or idempotency_key or hashlib.sha256(body).hexdigest()
        message_id = webhook_id(key)
        timestamp = int(self._clock())
        headers: dict[str, str | Secret] = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, message_id, timestamp, body),
        }
        url, extensions = await self._pinned(headers)
        response = await self.http.request(
            "POST",
            url,
            content=body,
            headers=headers,
            extensions=extensions,
            write=True,
            raise_for_status=False,
        )
        try:
            raise_for(response, self.http, self.settings.platform)
        except Gone as gone:
            self._gone = str(gone)
            self._log.warning("endpoint {} disabled: {}", self.endpoint, self._gone)
            raise AuthError(self._gone, provider=PROVIDER) from None
        self._log.debug("delivered {} as {} ({})", event.type, message_id, response.status)
        return DeliveryReceipt(
            status_code=response.status, delivery_id=message_id, endpoint=self.endpoint
        )

    async def check(self) -> None:
        """Resolve the host through the SSRF guard; nothing is sent (a test event would be one).

        Raises ``AuthError`` when the endpoint is disabled or its address is refused, and
        ``Unavailable`` when the name does not resolve.
        """
        self._refuse_if_gone()
        await self._pin_address()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    # -- internals --------------------------------------------------------------------------

    def _refuse_if_gone(self) -> None:
        if self._gone is not None:
            raise AuthError(self._gone + " (not sent)", provider=PROVIDER)

    async def _pin_address(self) -> str:
        pinned = await pin(
            self._host,
            self._port,
            resolver=self._resolver,
            allow_private=self.settings.allow_private,
            provider=PROVIDER,
        )
        return pinned.address

    async def _pinned(self, headers: dict[str, str | Secret]) -> tuple[str, dict[str, Any]]:
        """The URL naming the resolved address, with ``Host`` and the TLS name set."""
        address = await self._pin_address()
        literal = f"[{address}]" if ":" in address else address
        headers["host"] = self._host_header
        extensions: dict[str, Any] = {}
        if self._scheme == "https":
            extensions["sni_hostname"] = self._host
        return f"{self._scheme}://{literal}:{self._port}{self._target}", extensions
