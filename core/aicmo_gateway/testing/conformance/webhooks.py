"""The ``webhook_dispatch`` conformance suite."""

from __future__ import annotations

from typing import Any, ClassVar

from aicmo_gateway.ports import DeliveryReceipt, WebhookEvent
from aicmo_gateway.testing.conformance._base import PortConformance, Run

__all__ = ["WebhookDispatchConformance"]


class WebhookDispatchConformance(PortConformance):
    """Every ``webhook_dispatch`` provider.

    Fixtures to provide: ``provider``, ``service`` (the receiving endpoint) and ``secrets``
    (see :class:`~aicmo_gateway.testing.conformance.PortConformance`).
    """

    port: ClassVar[str] = "webhook_dispatch"

    def sample(self, operation: str) -> Any:
        return WebhookEvent(
            type="lead.replied",
            data={"email": "ada@example.com", "score": 7, "tags": ["vip"]},
            id="evt_conformance_1",
        )

    def test_an_event_is_delivered(self, provider: Any, run: Run) -> None:
        receipt = run(provider.dispatch, self.sample("dispatch"))
        assert isinstance(receipt, DeliveryReceipt)
        assert receipt.performed is not self.simulates
        if self.simulates:
            return
        assert receipt.status_code is not None
        assert 200 <= receipt.status_code < 300

    def test_events_without_an_id_are_delivered(self, provider: Any, run: Run) -> None:
        receipt = run(provider.dispatch, WebhookEvent(type="lead.created", data={}))
        assert isinstance(receipt, DeliveryReceipt)
        assert receipt.performed is not self.simulates
