"""``ResendSender``: the ``email_sending`` provider that sends through Resend's ``POST /emails``.

Every send carries an ``Idempotency-Key`` (the call's key, else the message's Message-ID): for 24
hours Resend answers a repeated request with the first one's email id and sends nothing, so the
chain may retry an ambiguous send here. The Message-ID, In-Reply-To and References travel in
Resend's ``headers``. A 429 locks every sender of the same account in this process out for the
wait Resend asked for; a success with ``ratelimit-remaining: 0`` makes them wait for the reset.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

import attrs
from loguru import logger

from aicmo_gateway import Ambiguous, Quota, RateLimited, Secret, Unavailable
from aicmo_gateway.http import HttpClient, HttpResponse, RequestPacer, fingerprint
from aicmo_gateway.mime import message_id_for_key
from aicmo_gateway.ports import EmailMessage, SendReceipt
from aicmo_gateway_resend.errors import error_body, raise_for
from aicmo_gateway_resend.payload import email_body, idempotency_header
from aicmo_gateway_resend.settings import ResendSettings

__all__ = ["ResendSender"]

#: the longest a request waits for Resend's rate-limit window to reset before failing over
MAX_HOLD = 10.0


class ResendSender:
    """Sends messages through one Resend account."""

    def __init__(self, settings: ResendSettings, *, transport: Any = None) -> None:
        self.settings = settings
        key = settings.api_key
        self.http = HttpClient(
            settings.base_url,
            timeout=settings.timeout,
            headers={"Authorization": Secret(f"Bearer {key.reveal()}")},
            provider="resend",
            transport=transport,
        )
        # Resend limits requests per team: every sender with this key shares the waits
        self._pacer = RequestPacer.shared(
            ("resend", self.http.base_url, fingerprint(key.reveal())),
            None,
            max_wait=MAX_HOLD,
            name="resend",
        )
        self._log = logger.bind(provider_type="resend")

    def __repr__(self) -> str:
        return f"ResendSender({self.http.base_url!r}, plan={self.settings.plan!r})"

    @property
    def quotas(self) -> tuple[Quota, ...]:
        """The daily quota of this account's plan (none on paid plans)."""
        return self.settings.quotas

    # -- the port --------------------------------------------------------------------------

    async def send(
        self, message: EmailMessage, *, idempotency_key: str | None = None
    ) -> SendReceipt:
        sender = message.sender or self.settings.default_sender
        if not sender:
            raise Unavailable(
                "resend: the message has no sender and this provider has no default_sender; "
                "set default_sender = 'sales@your-verified-domain.com'"
            )
        key = idempotency_key or message.message_id
        message_id = message.message_id
        if message_id is None and key is not None:
            domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
            message_id = message_id_for_key(key, domain)
        if message_id != message.message_id:
            message = attrs.evolve(message, message_id=message_id)
        body = email_body(message, sender, self.settings.tags)
        headers = {"Idempotency-Key": idempotency_header(key)} if key else {}
        await self._pacer.acquire()
        response = await self.http.request(
            "POST", "/emails", json=body, headers=headers, write=True, raise_for_status=False
        )
        self._note_limits(response.headers)
        self._raise_for(response)
        answer = response.json()
        email_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(email_id, str) or not email_id:
            raise Ambiguous(
                f"resend: HTTP {response.status} without an email id ({response.detail()!r}); "
                "the message may have been sent"
            )
        self._log.debug("sent {} as Resend email {}", message_id, email_id)
        return SendReceipt(
            message_id=message_id,
            provider_message_id=email_id,
            accepted=message.recipients,
        )

    async def check(self) -> None:
        """Verify the API key with ``GET /domains?limit=1``, the cheapest read-only call.

        A key restricted to sending ("sending access", the recommended kind) is refused there
        with 401 ``restricted_api_key``: Resend recognised the key, so the check passes.
        """
        await self._pacer.acquire()
        response = await self.http.request(
            "GET", "/domains", params={"limit": 1}, write=False, raise_for_status=False
        )
        self._note_limits(response.headers)
        if response.status == 401 and error_body(response)[0] == "restricted_api_key":
            self._log.debug("the API key is valid and restricted to sending")
            return
        self._raise_for(response)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    # -- internals --------------------------------------------------------------------------

    def _raise_for(self, response: HttpResponse) -> None:
        try:
            raise_for(response, self.http)
        except RateLimited as limited:  # Resend limits the team: every sender of it waits
            self._pacer.lock_out(limited.retry_after if limited.retry_after is not None else 1.0)
            raise

    def _note_limits(self, headers: Any) -> None:
        """Honour Resend's rate-limit headers: a spent window holds every sender until reset."""
        lowered = {k.lower(): v for k, v in dict(headers).items()}
        remaining = lowered.get("ratelimit-remaining", "").strip()
        if remaining != "0":
            return
        try:
            reset = float(lowered.get("ratelimit-reset", "1"))
        except ValueError:
            reset = 1.0
        self._pacer.hold(min(max(reset, 0.0), MAX_HOLD))
