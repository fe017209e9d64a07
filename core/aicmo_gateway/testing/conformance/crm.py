"""The ``crm_sync`` conformance suite."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import pytest

from aicmo_gateway.ports import Contact, CrmRecord, Engagement
from aicmo_gateway.testing.conformance._base import PortConformance, Run

__all__ = ["CrmSyncConformance"]


class CrmSyncConformance(PortConformance):
    """Every ``crm_sync`` provider; the fake CRM starts empty.

    Fixtures to provide: ``provider``, ``service`` and ``secrets`` (see
    :class:`~aicmo_gateway.testing.conformance.PortConformance`).
    """

    port: ClassVar[str] = "crm_sync"

    def contact(self, n: int = 1, **changes: Any) -> Contact:
        fields: dict[str, Any] = {
            "email": f"lead{n}@example.com",
            "first_name": "Ada",
            "last_name": f"Lovelace {n}",
            "company": "Analytical Engines",
        }
        fields.update(changes)
        return Contact(**fields)

    def engagement(self, n: int = 1, **changes: Any) -> Engagement:
        fields: dict[str, Any] = {
            "contact_email": "lead1@example.com",
            "kind": "email_sent",
            "subject": f"Offer {n}",
            "external_id": f"<offer-{n}@example.com>",
        }
        fields.update(changes)
        return Engagement(**fields)

    def sample(self, operation: str) -> Any:
        return self.engagement() if operation == "log_engagement" else self.contact()

    def test_an_upsert_creates_then_updates_the_same_record(self, provider: Any, run: Run) -> None:
        first = run(provider.upsert_contact, self.contact())
        assert isinstance(first, CrmRecord)
        assert first.kind == "contact"
        assert first.performed is not self.simulates
        assert isinstance(first.id, str)
        assert first.id
        if self.simulates:
            return
        assert first.created is True
        second = run(provider.upsert_contact, self.contact(title="Countess"))
        assert second.id == first.id
        assert second.created is False
        other = run(provider.upsert_contact, self.contact(2))
        assert other.id != first.id
        assert other.created is True

    def test_logging_an_engagement_gives_an_engagement_record(
        self, provider: Any, run: Run
    ) -> None:
        run(provider.upsert_contact, self.contact())
        record = run(provider.log_engagement, self.engagement())
        assert isinstance(record, CrmRecord)
        assert record.kind == "engagement"
        assert record.performed is not self.simulates
        if self.simulates:
            return
        assert record.created is True
        other = run(provider.log_engagement, self.engagement(2))
        assert other.id != record.id

    def test_upsert_contacts_agrees_with_upsert_contact(self, provider: Any, run: Run) -> None:
        batch = getattr(provider, "upsert_contacts", None)
        if batch is None:
            pytest.skip("no native upsert_contacts(); the chain maps upsert_contact()")
        contacts = [self.contact(n) for n in (1, 2, 3)]
        records = list(run(batch, contacts))
        assert len(records) == len(contacts)
        assert all(isinstance(r, CrmRecord) and r.kind == "contact" for r in records)
        if self.simulates:
            assert all(r.performed is False for r in records)
            return
        assert [r.created for r in records] == [True, True, True]
        assert len({r.id for r in records}) == 3
        single = run(provider.upsert_contact, attrs.evolve(contacts[1], title="Countess"))
        assert (single.id, single.created) == (records[1].id, False)
        again = list(run(batch, [self.contact(4), contacts[0]]))
        assert [r.created for r in again] == [True, False]
        assert again[1].id == records[0].id
        assert list(run(batch, [])) == []
