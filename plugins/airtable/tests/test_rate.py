"""Airtable's rate limit on virtual time: 5 requests per second per base, and the 30-second lockout.

Follows airtable.com/developers/web/api "Rate limits": "5 requests per second per base. If you
exceed this rate, you will receive a 429 status code and will need to wait 30 seconds before
subsequent requests will succeed". The fake here is a recording ``httpx.MockTransport`` on a
virtual-time event loop (:mod:`aicmo_gateway.testing`), so the request times are exact.
"""

from __future__ import annotations

import asyncio
import json
import types
import uuid
from typing import Any

import httpx
from aicmo_gateway_airtable.crm import AirtableCrm
from aicmo_gateway_airtable.plugin import AIRTABLE_RATE_LIMIT
from aicmo_gateway_airtable.settings import AirtableSettings

from aicmo_gateway import Gateway, ProviderType, Status, hookimpl
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import Contact
from aicmo_gateway.testing import loop_time, run_virtual


class Recorder:
    """An Airtable stand-in that records when each request arrives (virtual seconds)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.sizes: list[int] = []
        #: answer 429 to the requests with these numbers (0-based)
        self.throttle: set[int] = set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        number = len(self.times)
        self.times.append(loop_time())
        if number in self.throttle:
            body = {"error": {"type": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded"}}
            return httpx.Response(429, json=body)
        records = json.loads(request.content)["records"]
        self.sizes.append(len(records))
        ids = [f"rec{uuid.uuid4().hex[:14]}" for _ in records]
        return httpx.Response(
            200,
            json={
                "records": [
                    {"id": i, "fields": r["fields"]} for i, r in zip(ids, records, strict=True)
                ],
                "createdRecords": ids,
                "updatedRecords": [],
            },
        )

    def most_in_any_second(self) -> int:
        return max(sum(1 for t in self.times if s <= t < s + 1.0) for s in self.times)


def settings(base_id: str) -> AirtableSettings:
    return AirtableSettings(
        api_key="patVirtual0123456789.abcdef", base_id=base_id, table="Contacts", timeout=60.0
    )


def new_base() -> str:
    return "app" + uuid.uuid4().hex[:14]


def contacts(count: int) -> list[Contact]:
    return [Contact(email=f"lead{n}@example.com") for n in range(count)]


def test_a_hundred_contacts_take_ten_requests_and_never_more_than_five_in_a_second():
    recorder = Recorder()

    async def main() -> int:
        crm = AirtableCrm(settings(new_base()), transport=httpx.MockTransport(recorder))
        records = await crm.upsert_contacts(contacts(100))
        await crm.aclose()
        return len(records)

    assert run_virtual(main()) == 100
    assert recorder.sizes == [10] * 10
    assert recorder.most_in_any_second() == 5
    assert recorder.times[-1] >= 1.0  # the sixth request had to wait for the first second


def test_a_hundred_concurrent_upserts_from_two_providers_share_the_bases_five_per_second():
    recorder = Recorder()
    base = new_base()

    async def main() -> float:
        crms = [
            AirtableCrm(settings(base), transport=httpx.MockTransport(recorder)) for _ in range(2)
        ]
        calls = [crms[n % 2].upsert_contact(c) for n, c in enumerate(contacts(100))]
        await asyncio.gather(*calls)
        for crm in crms:
            await crm.aclose()
        return loop_time()

    finished = run_virtual(main())
    assert len(recorder.times) == 100
    assert recorder.most_in_any_second() == 5
    assert 19.0 <= finished < 21.0  # 100 requests at 5 per second


def test_another_base_has_its_own_allowance():
    recorder = Recorder()

    async def main() -> None:
        crms = [
            AirtableCrm(settings(new_base()), transport=httpx.MockTransport(recorder))
            for _ in range(2)
        ]
        await asyncio.gather(*(crm.upsert_contact(c) for crm in crms for c in contacts(5)))

    run_virtual(main())
    assert recorder.most_in_any_second() == 10


# -- the lockout, through a gateway chain: airtable, then the built-in SQLite CRM ----------


def registry_with(recorder: Recorder) -> Registry:
    def factory(**values: Any) -> AirtableCrm:
        return AirtableCrm(AirtableSettings(**values), transport=httpx.MockTransport(recorder))

    @hookimpl
    def aicmo_crm_syncers() -> list[ProviderType]:
        return [
            ProviderType(
                "airtable",
                factory,
                settings=AirtableSettings,
                batch_size=10,
                rate_limit=AIRTABLE_RATE_LIMIT,
            )
        ]

    plugin = types.SimpleNamespace(aicmo_crm_syncers=aicmo_crm_syncers)
    return Registry.from_plugins({"aicmo-gateway-airtable": plugin}, strict=True)


def config(base_id: str, path: str) -> dict[str, Any]:
    return {
        "capabilities": {"crm_sync": {"providers": ["airtable", "local"]}},
        "providers": {
            "airtable": {
                "type": "airtable",
                "api_key": "patVirtual0123456789.abcdef",
                "base_id": base_id,
                "table": "Contacts",
            },
            "local": {"type": "sqlite", "path": path},
        },
    }


def test_after_a_429_every_caller_skips_airtable_for_thirty_seconds(tmp_path):
    recorder = Recorder()
    recorder.throttle = {0}
    base = new_base()
    registry = registry_with(recorder)

    async def call(n: int) -> Any:
        # a new gateway each time: its chain has never seen the 429, only the base's pacer has
        gateway = Gateway.from_config(
            config(base, str(tmp_path / "crm.db")), registry=registry, env={}
        )
        async with gateway:
            return await gateway.crm_sync.upsert_contact(Contact(email=f"lead{n}@example.com"))

    async def main() -> list[tuple[Status, str | None, float]]:
        seen = []
        for n, wait in enumerate([0.0, 1.0, 28.0, 2.0]):  # at 0s, 1s, 29s and 31s
            await asyncio.sleep(wait)
            outcome = await call(n)
            seen.append((outcome.status, outcome.provider, loop_time()))
        return seen

    seen = run_virtual(main())
    assert [(status, provider) for status, provider, _ in seen] == [
        (Status.OK, "local"),  # the 429: the chain fell back to the SQLite CRM
        (Status.OK, "local"),  # 1s later: skipped, nothing sent to Airtable
        (Status.OK, "local"),  # 29s: still locked out
        (Status.OK, "airtable"),  # 31s: the wait is over
    ]
    assert len(recorder.times) == 2  # the 429 and the request after the lockout
    assert recorder.times[1] >= 30.0
