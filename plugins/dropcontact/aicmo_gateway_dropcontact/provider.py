"""The ``dropcontact`` provider: email verification and lead enrichment.

One provider object serves both capabilities: ``verify``/``verify_many`` submit the
addresses as records ``{"email": ...}``, ``enrich``/``enrich_many`` submit the leads;
both wait for the batch's result (see :mod:`aicmo_gateway_dropcontact.api`). A batch
method makes one submission per 250 items. A failed call raises; it never answers
"deliverable".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from aicmo_gateway import AuthError, InvalidInput, QuotaExhausted
from aicmo_gateway.ports import Enrichment, Lead, Verification
from aicmo_gateway_dropcontact.api import BATCH_LIMIT, DropcontactApi
from aicmo_gateway_dropcontact.mapping import enrichment_of, record_of
from aicmo_gateway_dropcontact.settings import DropcontactSettings
from aicmo_gateway_dropcontact.verdicts import verification_of

__all__ = ["DropcontactProvider"]


def _address(value: str) -> str:
    address = value.strip() if isinstance(value, str) else ""
    local, at, domain = address.rpartition("@")
    if not (at and local and "." in domain) or any(c.isspace() for c in address):
        raise InvalidInput(
            f"address: {value!r} is not an email address; pass one such as 'ada@example.com'",
            field="address",
            provider="dropcontact",
        )
    return address


@attrs.define
class DropcontactProvider:
    """Verifies addresses and enriches leads through Dropcontact (one provider instance)."""

    settings: DropcontactSettings
    _api: DropcontactApi = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._api = DropcontactApi(self.settings)

    async def _batches(self, records: Sequence[dict[str, str]]) -> list[Any]:
        results: list[Any] = []
        for start in range(0, len(records), BATCH_LIMIT):
            results.extend(await self._api.enrich(records[start : start + BATCH_LIMIT]))
        return results

    # -- email_verification ------------------------------------------------------------

    async def verify(self, address: str) -> Verification:
        """Dropcontact's verdict on one address (a batch of one)."""
        (verification,) = await self.verify_many([address])
        return verification

    async def verify_many(self, addresses: Sequence[str]) -> list[Verification]:
        """One verdict per address, in order; one submission per 250 addresses."""
        checked = [_address(address) for address in addresses]
        records = await self._batches([{"email": address} for address in checked])
        return [verification_of(a, r) for a, r in zip(checked, records, strict=True)]

    # -- lead_enrichment --------------------------------------------------------------------

    async def enrich(self, lead: Lead) -> Enrichment:
        """What Dropcontact adds to one lead (``found=False`` when nothing)."""
        (enrichment,) = await self.enrich_many([lead])
        return enrichment

    async def enrich_many(self, leads: Sequence[Lead]) -> list[Enrichment]:
        """One enrichment per lead, in order; one submission per 250 leads."""
        items = list(leads)
        records = await self._batches([record_of(lead) for lead in items])
        return [enrichment_of(lead, r) for lead, r in zip(items, records, strict=True)]

    # -- check and close ------------------------------------------------------------------------

    async def check(self) -> None:
        """Raise when Dropcontact refuses the key or the account has no credits left.

        Reads the balance (``GET /v1/account/credits``), which spends nothing.
        """
        body = await self._api.credits()
        credits = body.get("credits")
        if isinstance(credits, bool) or not isinstance(credits, int | float):
            raise AuthError(
                "GET /v1/account/credits: Dropcontact answered without a credit balance; "
                "check api_key and base_url",
                provider="dropcontact",
            )
        if credits <= 0:
            raise QuotaExhausted(
                "the Dropcontact account has no credits left; buy credits at "
                "app.dropcontact.com or wait for the plan's renewal",
                provider="dropcontact",
            )

    async def aclose(self) -> None:
        await self._api.aclose()
