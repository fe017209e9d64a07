"""``Gateway.quotas()``: every configured quota and how much of it the calls have spent."""

from __future__ import annotations

from aicmo_gateway import Gateway
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing import FakeProvider, fake_config, fake_registry, run_virtual

MESSAGE = EmailMessage(to="a@example.com", subject="Hi", text="Hello")


def gateway_with_quotas() -> Gateway:
    config = fake_config("email_sending", "primary", "backup")
    config["providers"]["primary"]["quotas"] = {"day": 2, "hour": 5}
    return Gateway.from_config(
        config,
        registry=fake_registry(primary=FakeProvider(name="primary"), backup=FakeProvider()),
        env={},
    )


def test_quotas_lists_each_period_of_each_provider_with_a_quota_and_what_is_spent():
    gateway = gateway_with_quotas()

    async def three_sends() -> list[dict]:
        for n in range(3):
            await gateway.email_sending.send(MESSAGE, idempotency_key=f"k{n}")
        # read on the clock the calls ran on (the virtual one), as an application would
        return gateway.quotas()

    rows = sorted(run_virtual(three_sends()), key=lambda row: row["period"])
    assert [(r["provider"], r["period"], r["limit"], r["used"], r["remaining"]) for r in rows] == [
        ("primary", "day", 2, 2, 0),
        ("primary", "hour", 5, 2, 3),
    ]
    assert all(r["capability"] == "email_sending" and r["type"] == "fake" for r in rows)
    assert all(0 < r["resets_in"] <= {"day": 86400, "hour": 3600}[r["period"]] for r in rows)


def test_quotas_is_empty_when_no_provider_has_one():
    gateway = Gateway.from_config(
        fake_config("email_sending", "primary"),
        registry=fake_registry(primary=FakeProvider()),
        env={},
    )
    assert gateway.quotas() == []
