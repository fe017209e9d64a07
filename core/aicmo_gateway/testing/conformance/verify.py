"""The ``email_verification`` conformance suite."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import pytest

from aicmo_gateway.ports import Verdict, Verification
from aicmo_gateway.testing.conformance._base import PortConformance, Run

__all__ = ["EmailVerificationConformance"]


class EmailVerificationConformance(PortConformance):
    """Every ``email_verification`` provider.

    Fixtures to provide: ``provider``, ``service`` and ``secrets`` (see
    :class:`~aicmo_gateway.testing.conformance.PortConformance`); the class attribute
    ``verdicts`` maps addresses the fake service knows to the verdict it gives (at least one
    deliverable and one undeliverable address).
    """

    port: ClassVar[str] = "email_verification"
    verdicts: ClassVar[Mapping[str, Verdict]] = {}

    def addresses(self) -> list[str]:
        if not self.verdicts:
            raise NotImplementedError("set verdicts to {address: Verdict} the fake service gives")
        return list(self.verdicts)

    def sample(self, operation: str) -> Any:
        return self.addresses()[0]

    def test_each_address_gets_its_verdict(self, provider: Any, run: Run) -> None:
        for address in self.addresses():
            result = run(provider.verify, address)
            assert isinstance(result, Verification)
            assert result.address.lower() == address.lower()
            expected = Verdict.UNKNOWN if self.simulates else self.verdicts[address]
            assert result.verdict is expected, f"{address}: {result.verdict} ({result.reason})"

    def test_the_verdicts_cover_both_answers(self) -> None:
        if self.simulates:
            pytest.skip("a simulating verifier always says unknown")
        given = set(self.verdicts.values())
        assert {Verdict.DELIVERABLE, Verdict.UNDELIVERABLE} <= given, (
            "list at least one deliverable and one undeliverable address in verdicts"
        )

    def test_verify_many_agrees_with_verify(self, provider: Any, run: Run) -> None:
        batch = getattr(provider, "verify_many", None)
        if batch is None:
            pytest.skip("no native verify_many(); the chain maps verify()")
        addresses = self.addresses()
        many = list(run(batch, addresses))
        assert len(many) == len(addresses)
        assert all(isinstance(v, Verification) for v in many)
        single = [run(provider.verify, address) for address in addresses]
        assert [attrs.asdict(v) for v in many] == [attrs.asdict(v) for v in single]
        assert list(run(batch, [])) == []
