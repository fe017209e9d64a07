"""The ``lead_enrichment`` conformance suite."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import pytest

from aicmo_gateway.ports import Enrichment, Lead
from aicmo_gateway.testing.conformance._base import PortConformance, Run

__all__ = ["LeadEnrichmentConformance"]


def _comparable(enrichment: Enrichment) -> dict[str, Any]:
    return attrs.asdict(enrichment, filter=lambda a, _: a.name != "attributes")


class LeadEnrichmentConformance(PortConformance):
    """Every ``lead_enrichment`` provider.

    Fixtures to provide: ``provider``, ``service`` and ``secrets`` (see
    :class:`~aicmo_gateway.testing.conformance.PortConformance`); class attributes
    ``known_lead`` (a :class:`Lead` the fake service finds) and ``unknown_lead`` (one it does
    not).
    """

    port: ClassVar[str] = "lead_enrichment"
    known_lead: ClassVar[Lead | None] = None
    unknown_lead: ClassVar[Lead | None] = None

    def lead(self, which: str) -> Lead:
        lead = getattr(self, which)
        if lead is None:
            raise NotImplementedError(f"set {which} to a Lead the fake service {which[:-5]}s")
        assert isinstance(lead, Lead)
        return lead

    def sample(self, operation: str) -> Any:
        return self.lead("known_lead")

    def test_a_known_lead_is_found(self, provider: Any, run: Run) -> None:
        result = run(provider.enrich, self.lead("known_lead"))
        assert isinstance(result, Enrichment)
        if self.simulates:
            assert result.found is False
            return
        assert result.found is True
        named = (result.email, result.first_name, result.last_name, result.company)
        assert any(named), "a found lead carries at least an email, a name or a company"

    def test_an_unknown_lead_is_an_empty_answer_not_an_error(self, provider: Any, run: Run) -> None:
        result = run(provider.enrich, self.lead("unknown_lead"))
        assert isinstance(result, Enrichment)
        assert result.found is False
        assert result.empty

    def test_enrich_many_agrees_with_enrich(self, provider: Any, run: Run) -> None:
        batch = getattr(provider, "enrich_many", None)
        if batch is None:
            pytest.skip("no native enrich_many(); the chain maps enrich()")
        leads = [self.lead("known_lead"), self.lead("unknown_lead")]
        many = list(run(batch, leads))
        assert len(many) == len(leads)
        assert all(isinstance(e, Enrichment) for e in many)
        single = [run(provider.enrich, lead) for lead in leads]
        assert [_comparable(e) for e in many] == [_comparable(e) for e in single]
        assert list(run(batch, [])) == []
