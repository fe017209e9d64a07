"""A scriptable, fault-injecting provider for every port (register it with ``fake_plugin``).

:class:`FakeProvider` implements every port method as ``async def`` and returns valid
records. Its behaviour follows a :mod:`~aicmo_gateway.testing.profiles` profile, and it
records what it was asked and which side effects it actually performed, so a test can
assert "sent once, never twice"::

    from aicmo_gateway import Gateway
    from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
    from aicmo_gateway.testing.fakes import FakeProvider
    from aicmo_gateway.testing.profiles import fast_failure, healthy
    from aicmo_gateway.testing.virtual_time import run_virtual

    primary = FakeProvider(fast_failure(), name="primary")
    backup = FakeProvider(healthy(latency=0.2), name="backup")
    gateway = Gateway.from_config(
        fake_config("email_sending", "primary", "backup"),
        registry=fake_registry(primary=primary, backup=backup),
        env={},
    )
    outcome = run_virtual(gateway.email_sending.send(message))
    assert outcome.provider == "backup" and backup.duplicates() == []

Side effects (``performed``) are recorded for the port operations that change the world:
``send``, ``upsert_contact(s)``, ``log_engagement``, ``post`` and ``dispatch``. A fake
made with ``honours_idempotency=True`` performs each idempotency key once (the message's
Message-ID, the event's id, the engagement's ``external_id``) and answers a repeat with the
first result, as a service honouring ``Idempotency-Key`` would.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import (
    PORTS,
    Contact,
    CrmRecord,
    DeliveryReceipt,
    Effect,
    EmailMessage,
    Engagement,
    Enrichment,
    Lead,
    PostReceipt,
    Reply,
    ReplyBatch,
    SendReceipt,
    SocialPost,
    Verdict,
    Verification,
    WebhookEvent,
)
from aicmo_gateway.testing.profiles import Behaviour, CallInfo, Profile, healthy
from aicmo_gateway.testing.virtual_time import VirtualEventLoop

__all__ = ["FakeProvider"]

R = TypeVar("R")

#: operations whose repetition is a new side effect (a duplicate, if the key is the same)
_WRITES = frozenset(
    op.name for spec in PORTS.values() for op in spec.operations if op.effect is Effect.WRITE
)


async def _forever() -> None:
    await asyncio.get_running_loop().create_future()  # only cancellation ends it


@attrs.define(eq=False)
class FakeProvider:
    """A provider for all seven ports whose behaviour follows ``profile``.

    ``origin`` is the loop time that profile time 0 stands for. By default it is the start
    of the virtual clock on a :class:`VirtualEventLoop`, else the loop time of the first call.
    ``replies`` are what ``fetch_replies`` serves, ``page_size`` at a time; ``verdict`` is
    what ``verify`` answers.
    """

    profile: Profile = attrs.field(factory=healthy)
    name: str = "fake"
    honours_idempotency: bool = False
    origin: float | None = None
    replies: list[Reply] = attrs.field(factory=list, converter=list)
    page_size: int = 50
    verdict: Verdict = Verdict.DELIVERABLE

    #: calls received, per operation (a batch call counts once)
    calls: Counter[str] = attrs.field(factory=Counter, init=False)
    #: every call as ``(operation, payload)``, in arrival order
    received: list[tuple[str, Any]] = attrs.field(factory=list, init=False)
    #: side effects actually performed, as ``(operation, key)``, in order
    performed: list[tuple[str, str | None]] = attrs.field(factory=list, init=False)
    #: repeats of a key this fake answered without performing again
    deduplicated: list[tuple[str, str]] = attrs.field(factory=list, init=False)
    _results: dict[tuple[str, str], Any] = attrs.field(factory=dict, init=False)
    _contacts: set[str] = attrs.field(factory=set, init=False)
    _serial: int = attrs.field(default=0, init=False)

    # -- what tests read -----------------------------------------------------------

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def duplicates(self) -> list[tuple[str, str]]:
        """Writes performed more than once with the same key (an upsert is not a write)."""
        seen = Counter((op, key) for op, key in self.performed if key is not None and op in _WRITES)
        return [(op, key) for (op, key), count in seen.items() if count > 1]

    def profile_time(self) -> float:
        """Seconds since ``origin`` on the running loop's clock."""
        loop = asyncio.get_running_loop()
        if self.origin is None:
            self.origin = loop.clock.start if isinstance(loop, VirtualEventLoop) else loop.time()
        return loop.time() - self.origin

    def reset(self) -> None:
        """Forget calls and side effects (the profile keeps its own state)."""
        self.calls.clear()
        self.received.clear()
        self.performed.clear()
        self.deduplicated.clear()
        self._results.clear()
        self._contacts.clear()

    # -- the engine ----------------------------------------------------------------

    async def _call(self, operation: str, payload: Any, perform: Callable[[], R]) -> R:
        self.calls[operation] += 1
        self.received.append((operation, payload))
        info = CallInfo(self.profile_time(), self._serial, operation, self.name)
        self._serial += 1
        step = self.profile.step(info)
        if step.latency > 0:
            await asyncio.sleep(step.latency)
        if step.behaviour is Behaviour.HANG:
            await _forever()
        if step.behaviour is Behaviour.FAIL:
            raise step.raise_for(info)
        result = perform()
        if step.behaviour is Behaviour.PERFORM_THEN_FAIL:
            if step.after > 0:
                await asyncio.sleep(step.after)
            raise step.raise_for(info)
        if step.behaviour is Behaviour.PERFORM_THEN_HANG:
            await _forever()
        return result

    def _effect(self, operation: str, key: str | None, make: Callable[[], R]) -> R:
        if self.honours_idempotency and key is not None and (operation, key) in self._results:
            self.deduplicated.append((operation, key))
            return self._results[(operation, key)]  # type: ignore[no-any-return]
        result = make()
        self.performed.append((operation, key))
        if key is not None:
            self._results[(operation, key)] = result
        return result

    def _id(self, kind: str) -> str:
        return f"{self.name}-{kind}-{len(self.performed) + 1}"

    # -- email_sending ---------------------------------------------------------------

    async def send(self, message: EmailMessage) -> SendReceipt:
        def perform() -> SendReceipt:
            return self._effect(
                "send",
                message.message_id,
                lambda: SendReceipt(
                    message_id=message.message_id,
                    provider_message_id=self._id("message"),
                    accepted=message.recipients,
                ),
            )

        return await self._call("send", message, perform)

    # -- reply_fetching --------------------------------------------------------------

    async def fetch_replies(self, cursor: str | None) -> ReplyBatch:
        start = self._position(cursor)

        def perform() -> ReplyBatch:
            end = min(start + self.page_size, len(self.replies))
            page = tuple(self.replies[start:end])
            return ReplyBatch(
                page,  # type: ignore[arg-type]  # mypy reads converter=tuple badly
                cursor=str(end),
                has_more=end < len(self.replies),
            )

        return await self._call("fetch_replies", cursor, perform)

    def _position(self, cursor: str | None) -> int:
        if cursor is None:
            return 0
        if not cursor.isdigit():
            raise InvalidInput(
                f"{self.name}: {cursor!r} is not a cursor this fake gave out; pass None "
                "or a cursor from a previous ReplyBatch",
                field="cursor",
                provider=self.name,
            )
        return int(cursor)

    # -- crm_sync ----------------------------------------------------------------

    def _upsert(self, contact: Contact) -> CrmRecord:
        email = contact.email.lower()
        created = email not in self._contacts
        self._contacts.add(email)
        self.performed.append(("upsert_contact", email))
        return CrmRecord(id=f"{self.name}-contact-{email}", kind="contact", created=created)

    async def upsert_contact(self, contact: Contact) -> CrmRecord:
        return await self._call("upsert_contact", contact, lambda: self._upsert(contact))

    async def upsert_contacts(self, contacts: Sequence[Contact]) -> list[CrmRecord]:
        items = list(contacts)
        return await self._call(
            "upsert_contacts", items, lambda: [self._upsert(contact) for contact in items]
        )

    async def log_engagement(self, engagement: Engagement) -> CrmRecord:
        def perform() -> CrmRecord:
            return self._effect(
                "log_engagement",
                engagement.external_id,
                lambda: CrmRecord(id=self._id("engagement"), kind="engagement", created=True),
            )

        return await self._call("log_engagement", engagement, perform)

    # -- lead_enrichment -----------------------------------------------------------

    @staticmethod
    def _enrichment(lead: Lead) -> Enrichment:
        return Enrichment(
            found=True,
            email=lead.email,
            first_name=lead.first_name,
            last_name=lead.last_name,
            company=lead.company,
            domain=lead.domain or (lead.email.partition("@")[2] if lead.email else None),
            linkedin_url=lead.linkedin_url,
            confidence=1.0,
        )

    async def enrich(self, lead: Lead) -> Enrichment:
        return await self._call("enrich", lead, lambda: self._enrichment(lead))

    async def enrich_many(self, leads: Sequence[Lead]) -> list[Enrichment]:
        items = list(leads)
        return await self._call(
            "enrich_many", items, lambda: [self._enrichment(lead) for lead in items]
        )

    # -- email_verification --------------------------------------------------------

    def _verification(self, address: str) -> Verification:
        return Verification(address=address, verdict=self.verdict, reason="scripted by a fake")

    async def verify(self, address: str) -> Verification:
        return await self._call("verify", address, lambda: self._verification(address))

    async def verify_many(self, addresses: Sequence[str]) -> list[Verification]:
        items = list(addresses)
        return await self._call(
            "verify_many", items, lambda: [self._verification(address) for address in items]
        )

    # -- social_posting ------------------------------------------------------------

    async def post(self, post: SocialPost) -> PostReceipt:
        def perform() -> PostReceipt:
            post_id = self._id("post")
            self.performed.append(("post", None))
            return PostReceipt(post_id=post_id, url=f"https://fake.invalid/{post_id}")

        return await self._call("post", post, perform)

    # -- webhook_dispatch ----------------------------------------------------------

    async def dispatch(self, event: WebhookEvent) -> DeliveryReceipt:
        def perform() -> DeliveryReceipt:
            return self._effect(
                "dispatch",
                event.id,
                lambda: DeliveryReceipt(
                    status_code=200, delivery_id=event.id, endpoint=f"fake://{self.name}"
                ),
            )

        return await self._call("dispatch", event, perform)
