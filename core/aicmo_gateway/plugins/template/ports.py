"""What differs per port in a rendered plugin: the provider's methods, the fake's API, the suite.

Each value is code spliced into the files of :mod:`aicmo_gateway.plugins.template.files`.
"""

# ruff: noqa: E501  (rendered text; tests/test_new_plugin.py runs ruff on the rendered files)

from __future__ import annotations

__all__ = ["SPECS"]

_JSON_HELPER = '''

def _plain(value: Any) -> Any:
    """A record's field as JSON: datetimes as ISO text, bytes as base64, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json(record: Any) -> dict[str, Any]:
    return {field.name: _plain(getattr(record, field.name)) for field in attrs.fields(type(record))}
'''

_JSON_IMPORTS = (
    "import base64\nfrom collections.abc import Mapping, Sequence\nfrom datetime import datetime"
)

SPECS: dict[str, dict[str, str]] = {
    "email_sending": {
        "summary": "Sends email through the Example Mail API",
        "cls": "Sender",
        "env": "MAIL",
        "traits": "\n            idempotency=Idempotency.MESSAGE_ID,",
        "provider_imports": "import base64",
        "port_imports": "from aicmo_gateway.mime import build_message, render\n"
        "from aicmo_gateway.ports import EmailMessage, SendReceipt",
        "provider_helpers": "",
        "settings_extra": "\n    #: the From address of messages that name none\n    sender: str | None = None",
        "settings_rows": "| `sender` | none | the From address of messages that name none |\n",
        "provider_methods": '''
    async def send(self, message: EmailMessage) -> SendReceipt:
        """Send one message, rendered here as RFC 5322 (the service takes it raw)."""
        built = build_message(message, default_sender=self.settings.sender)
        raw = base64.b64encode(render(built)).decode()
        response = await self._call("send", {"raw": raw}, write=True)
        body = response.json()
        return SendReceipt(
            message_id=built["Message-ID"],
            provider_message_id=str(body["id"]),
            accepted=message.recipients,
        )
''',
        "fake_imports": "import base64\n",
        "fake_init": '\n        self.messages: list[bytes] = []\n        self._route("/send", self._send)',
        "fake_methods": """
    def _send(self, body: Any) -> Any:
        self.messages.append(base64.b64decode(body["raw"]))
        return {"id": f"msg-{len(self.messages)}"}
""",
        "suite": "EmailSenderConformance",
        "suite_std": "from collections.abc import Callable\n",
        "suite_imports": "from aicmo_gateway.testing.conformance import EmailSenderConformance",
        "suite_body": "",
        "suite_fixtures": """
    @pytest.fixture
    def delivered(self, fake: FakeService) -> Callable[[], list[bytes]]:
        return lambda: list(fake.messages)
""",
    },
    "reply_fetching": {
        "summary": "Fetches replies from the Example Inbox API",
        "cls": "Fetcher",
        "env": "INBOX",
        "traits": "",
        "provider_imports": "import base64",
        "provider_names": "InvalidInput, QuotaExhausted, Secret",
        "port_imports": "from aicmo_gateway.mime import parse_reply\n"
        "from aicmo_gateway.ports import ReplyBatch",
        "provider_helpers": "",
        "settings_extra": "",
        "settings_rows": "",
        "provider_methods": '''
    async def fetch_replies(self, cursor: str | None) -> ReplyBatch:
        """The messages received after ``cursor`` (all of them for ``None``), oldest first."""
        if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 10):
            raise InvalidInput(  # never echo the cursor: it may be huge or hostile
                "the cursor is not one this provider issued; pass None to start over, "
                "or a cursor it returned",
                field="cursor",
            )
        response = await self._call("fetch_replies", {"cursor": cursor}, write=False)
        body = response.json()
        replies = tuple(
            parse_reply(base64.b64decode(item["raw"]), source_id=str(item["id"]))
            for item in body["messages"]
        )
        # mypy reads the converter=tuple of ReplyBatch.replies badly
        return ReplyBatch(replies=replies, cursor=str(body["cursor"]))  # type: ignore[arg-type]
''',
        "fake_imports": "import base64\n",
        "fake_init": '\n        self.mailbox: list[bytes] = []\n        self._route("/fetch_replies", self._fetch)',
        "fake_methods": """
    def deliver(self, raw: bytes) -> None:
        self.mailbox.append(raw)

    def _fetch(self, body: Any) -> Any:
        start = int(body["cursor"] or 0)
        messages = [
            {"id": n, "raw": base64.b64encode(raw).decode()}
            for n, raw in enumerate(self.mailbox[start:], start)
        ]
        return {"messages": messages, "cursor": str(len(self.mailbox))}
""",
        "suite": "ReplyFetcherConformance",
        "suite_std": "from collections.abc import Callable\n",
        "suite_imports": "from aicmo_gateway.testing.conformance import ReplyFetcherConformance",
        "suite_body": "",
        "suite_fixtures": """
    @pytest.fixture
    def deliver(self, fake: FakeService) -> Callable[[bytes], None]:
        return fake.deliver
""",
    },
    "crm_sync": {
        "summary": "Syncs contacts and engagements to the Example CRM API",
        "cls": "Crm",
        "env": "CRM",
        "traits": "\n            batch_size=100,",
        "provider_imports": _JSON_IMPORTS,
        "port_imports": "from aicmo_gateway.ports import Contact, CrmRecord, Engagement",
        "provider_helpers": _JSON_HELPER,
        "settings_extra": "",
        "settings_rows": "",
        "provider_methods": '''
    async def upsert_contact(self, contact: Contact) -> CrmRecord:
        """Create or update the contact with this email address."""
        body = (await self._call("upsert_contact", _json(contact), write=True)).json()
        return CrmRecord(id=str(body["id"]), kind="contact", created=bool(body["created"]))

    async def upsert_contacts(self, contacts: Sequence[Contact]) -> list[CrmRecord]:
        """One record per contact, in order (the chain splits batches to ``batch_size``)."""
        if not contacts:
            return []
        payload = {"contacts": [_json(contact) for contact in contacts]}
        body = (await self._call("upsert_contacts", payload, write=True)).json()
        return [
            CrmRecord(id=str(item["id"]), kind="contact", created=bool(item["created"]))
            for item in body["results"]
        ]

    async def log_engagement(self, engagement: Engagement) -> CrmRecord:
        """Record something that happened with a contact."""
        body = (await self._call("log_engagement", _json(engagement), write=True)).json()
        return CrmRecord(id=str(body["id"]), kind="engagement", created=True)
''',
        "fake_imports": "",
        "fake_init": "\n        self.contacts: dict[str, str] = {}\n        self.engagements: list[Any] = []"
        '\n        self._route("/upsert_contact", self._upsert)'
        '\n        self._route("/upsert_contacts", self._upsert_many)'
        '\n        self._route("/log_engagement", self._log)',
        "fake_methods": """
    def _upsert(self, body: Any) -> Any:
        created = body["email"] not in self.contacts
        self.contacts.setdefault(body["email"], f"c{len(self.contacts) + 1}")
        return {"id": self.contacts[body["email"]], "created": created}

    def _upsert_many(self, body: Any) -> Any:
        return {"results": [self._upsert(contact) for contact in body["contacts"]]}

    def _log(self, body: Any) -> Any:
        self.engagements.append(body)
        return {"id": f"e{len(self.engagements)}"}
""",
        "suite": "CrmSyncConformance",
        "suite_imports": "from aicmo_gateway.testing.conformance import CrmSyncConformance",
        "suite_body": "",
        "suite_fixtures": "",
    },
    "lead_enrichment": {
        "summary": "Enriches leads with the Example People API",
        "cls": "Enricher",
        "env": "PEOPLE",
        "traits": "\n            batch_size=25,",
        "provider_imports": _JSON_IMPORTS,
        "port_imports": "from aicmo_gateway.ports import Enrichment, Lead",
        "provider_helpers": _JSON_HELPER
        + """

def _enrichment(body: Mapping[str, Any]) -> Enrichment:
    person = body.get("person")
    if not isinstance(person, Mapping):
        return Enrichment(found=False)
    return Enrichment(
        found=True,
        email=person.get("email"),
        first_name=person.get("first_name"),
        last_name=person.get("last_name"),
        title=person.get("title"),
        company=person.get("company"),
    )
""",
        "settings_extra": "",
        "settings_rows": "",
        "provider_methods": '''
    async def enrich(self, lead: Lead) -> Enrichment:
        """What the service knows about the lead; nothing found is ``found=False``."""
        return _enrichment((await self._call("enrich", _json(lead), write=False)).json())

    async def enrich_many(self, leads: Sequence[Lead]) -> list[Enrichment]:
        """One result per lead, in order."""
        if not leads:
            return []
        payload = {"leads": [_json(lead) for lead in leads]}
        body = (await self._call("enrich_many", payload, write=False)).json()
        return [_enrichment(item) for item in body["results"]]
''',
        "fake_imports": "",
        "fake_init": '\n        self._route("/enrich", self._enrich)'
        '\n        self._route("/enrich_many", self._enrich_many)',
        "fake_methods": """
    def _enrich(self, body: Any) -> Any:
        if body.get("email") != "ada@example.com":
            return {"person": None}
        person = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
        return {"person": {**person, "title": "Countess", "company": "Analytical Engines"}}

    def _enrich_many(self, body: Any) -> Any:
        return {"results": [self._enrich(lead) for lead in body["leads"]]}
""",
        "suite": "LeadEnrichmentConformance",
        "suite_imports": "from aicmo_gateway.ports import Lead\n"
        "from aicmo_gateway.testing.conformance import LeadEnrichmentConformance",
        "suite_body": '\n    known_lead = Lead(email="ada@example.com")'
        '\n    unknown_lead = Lead(email="nobody@example.com")',
        "suite_fixtures": "",
    },
    "email_verification": {
        "summary": "Verifies email addresses with the Example Verify API",
        "cls": "Verifier",
        "env": "VERIFY",
        "traits": "\n            batch_size=100,",
        "provider_imports": "from collections.abc import Mapping, Sequence",
        "port_imports": "from aicmo_gateway.ports import Verification",
        "provider_helpers": """

def _verification(address: str, body: Mapping[str, Any]) -> Verification:
    # map the service's own words to the port's verdicts
    verdict = {"valid": "deliverable", "invalid": "undeliverable"}.get(body["result"], "unknown")
    return Verification(address=address, verdict=verdict, reason=str(body.get("reason", "")))
""",
        "settings_extra": "",
        "settings_rows": "",
        "provider_methods": '''
    async def verify(self, address: str) -> Verification:
        """The service's verdict on one address."""
        body = (await self._call("verify", {"address": address}, write=False)).json()
        return _verification(address, body)

    async def verify_many(self, addresses: Sequence[str]) -> list[Verification]:
        """One verdict per address, in order."""
        if not addresses:
            return []
        payload = {"addresses": list(addresses)}
        body = (await self._call("verify_many", payload, write=False)).json()
        return [
            _verification(address, item)
            for address, item in zip(addresses, body["results"], strict=True)
        ]
''',
        "fake_imports": "",
        "fake_init": '\n        self._route("/verify", self._verify)'
        '\n        self._route("/verify_many", self._verify_many)',
        "fake_methods": """
    @staticmethod
    def _verify(body: Any) -> Any:
        if body["address"].startswith("bounce"):
            return {"result": "invalid", "reason": "mailbox does not exist"}
        return {"result": "valid", "reason": "mailbox exists"}

    def _verify_many(self, body: Any) -> Any:
        return {"results": [self._verify({"address": a}) for a in body["addresses"]]}
""",
        "suite": "EmailVerificationConformance",
        "suite_std": "from types import MappingProxyType\n",
        "suite_imports": "from aicmo_gateway.ports import Verdict\n"
        "from aicmo_gateway.testing.conformance import EmailVerificationConformance",
        "suite_body": "\n    verdicts = MappingProxyType("
        "\n        {"
        '\n            "ada@example.com": Verdict.DELIVERABLE,'
        '\n            "bounce@example.com": Verdict.UNDELIVERABLE,'
        "\n        }"
        "\n    )",
        "suite_fixtures": "",
    },
    "social_posting": {
        "summary": "Publishes posts to the Example Social API",
        "cls": "Poster",
        "env": "SOCIAL",
        "traits": "",
        "provider_imports": "import base64",
        "provider_names": "InvalidInput, QuotaExhausted, Secret",
        "port_imports": "from aicmo_gateway.ports import PostReceipt, SocialPost",
        "provider_helpers": "",
        "settings_extra": "\n    #: the longest text the network takes\n    max_length: int = 500",
        "settings_rows": "| `max_length` | `500` | the longest text the network takes |\n",
        "provider_methods": '''
    async def post(self, post: SocialPost) -> PostReceipt:
        """Publish one post; a text over ``max_length`` is refused before anything is sent."""
        if len(post.text) > self.settings.max_length:
            raise InvalidInput(
                f"SocialPost.text: {len(post.text)} characters, over the network's "
                f"{self.settings.max_length}; shorten it",
                field="SocialPost.text",
            )
        media = [
            {
                "filename": item.filename,
                "content_type": item.content_type,
                "description": item.description,
                "content": base64.b64encode(item.content).decode(),
            }
            for item in post.media
        ]
        payload = {
            "text": post.text,
            "visibility": post.visibility,
            "in_reply_to": post.in_reply_to,
            "media": media,
        }
        body = (await self._call("post", payload, write=True)).json()
        return PostReceipt(post_id=str(body["id"]), url=body.get("url"))
''',
        "fake_imports": "",
        "fake_init": '\n        self.posts: list[Any] = []\n        self._route("/post", self._post)',
        "fake_methods": """
    def _post(self, body: Any) -> Any:
        self.posts.append(body)
        post_id = f"p{len(self.posts)}"
        return {"id": post_id, "url": f"https://social.example/{post_id}"}
""",
        "suite": "SocialPostingConformance",
        "suite_imports": "from aicmo_gateway.testing.conformance import SocialPostingConformance",
        "suite_body": "",
        "suite_fixtures": "",
    },
    "webhook_dispatch": {
        "summary": "Delivers events to the Example Automation API",
        "cls": "Dispatcher",
        "env": "HOOKS",
        "traits": "",
        "provider_imports": "import json",
        "port_imports": "from aicmo_gateway.ports import DeliveryReceipt, WebhookEvent",
        "provider_helpers": "",
        "settings_extra": "",
        "settings_rows": "",
        "provider_methods": '''
    async def dispatch(self, event: WebhookEvent) -> DeliveryReceipt:
        """Deliver one event; the service answers 2xx when it took it."""
        response = await self._call("dispatch", json.loads(event.to_json()), write=True)
        return DeliveryReceipt(
            status_code=response.status, delivery_id=event.id, endpoint=self._http.base_url
        )
''',
        "fake_imports": "",
        "fake_init": '\n        self.events: list[Any] = []\n        self._route("/dispatch", self._dispatch)',
        "fake_methods": """
    def _dispatch(self, body: Any) -> Any:
        self.events.append(body)
        return {"received": len(self.events)}
""",
        "suite": "WebhookDispatchConformance",
        "suite_imports": "from aicmo_gateway.testing.conformance import WebhookDispatchConformance",
        "suite_body": "",
        "suite_fixtures": "",
    },
}
