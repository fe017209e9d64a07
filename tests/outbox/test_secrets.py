"""A provider's secret in its error text never reaches an outbox row or the CLI."""

from __future__ import annotations

import asyncio
import types

import attrs
from click.testing import CliRunner

from aicmo_gateway import Gateway, Status
from aicmo_gateway.cli import cli
from aicmo_gateway.errors import Unavailable
from aicmo_gateway.plugins.hookspecs import hookimpl
from aicmo_gateway.plugins.provider_type import ProviderType
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage, SendReceipt

SECRET = "sk-live-Zq8v1xW3-topsecret"


@attrs.frozen
class LeakySettings:
    api_key: str


class Leaky:
    def __init__(self, *, api_key: str) -> None:
        self.api_key = api_key

    async def send(self, message: EmailMessage) -> SendReceipt:
        raise Unavailable(f"401 from the API: key {self.api_key} refused")


@hookimpl
def aicmo_email_senders() -> list[ProviderType]:
    return [ProviderType("leaky", Leaky, "echoes its key in errors", settings=LeakySettings)]


def test_the_stored_last_error_is_scrubbed(tmp_path):
    registry = Registry.from_plugins(
        {"leaky": types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)}
    )
    config = {
        "gateway": {"outbox": f"sqlite:///{tmp_path / 'outbox.db'}"},
        "capabilities": {"email_sending": {"providers": ["api"]}},
        "providers": {"api": {"type": "leaky", "api_key": SECRET}},
    }

    async def defer() -> None:
        async with Gateway.from_config(config, registry=registry, env={}) as gw:
            outcome = await gw.email_sending.send(
                EmailMessage(to=["a@example.com"], subject="s", text="t")
            )
            assert outcome.status is Status.DEFERRED
            assert gw.outbox is not None
            row = await gw.outbox.get(int(outcome.outbox_id or 0))
            assert row is not None and "refused" in (row.last_error or "")
            assert SECRET not in (row.last_error or "")

    asyncio.run(defer())
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("outbox.db"))
    assert SECRET.encode() not in raw
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text('[gateway]\noutbox = "sqlite:///outbox.db"\n', encoding="utf-8")
    for args in (["outbox", "list"], ["outbox", "show", "1"], ["outbox", "list", "--json"]):
        result = CliRunner().invoke(cli, [*args, "--config", str(path)])
        assert result.exit_code == 0, result.output
        assert SECRET not in result.output
