"""What ``audit.jsonl`` keeps of a call's value: a short summary that holds no secret.

A provider's return value comes from its service as is, and a service may echo what it was
sent: the summary masks every configured secret (the providers' and the gateway's own, also
those given as ``${VAR}``) and the value under any credential-like name, whatever it is.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import attrs

from aicmo_gateway import Gateway, ProviderType, Secret, Status, hookimpl
from aicmo_gateway.config.load import load_config
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import CrmRecord, Verification
from aicmo_gateway.scrub import MASK, is_secret_key, summary

API_KEY = "sk-live-verify-0123456789"
UNSUBSCRIBE = "unsubscribe-hmac-key-0123456789"
STRANGER = "bearer-the-service-made-up-42"
ENV = {"VERIFY_KEY": API_KEY, "UNSUBSCRIBE_SECRET": UNSUBSCRIBE}


@attrs.frozen
class EchoSettings:
    api_key: Secret = attrs.field(converter=Secret)
    answer: str = "dict"


@attrs.frozen
class Echoed:
    """A record a third-party provider might return."""

    id: str
    session_token: str
    note: str


class EchoingVerifier:
    """Returns what its service answered: the key it was sent, the gateway's unsubscribe
    secret (as a service that was handed it would), and a token of the service's own."""

    def __init__(self, api_key: Secret, answer: str = "dict") -> None:
        self.api_key = api_key
        self.answer = answer

    async def verify(self, address: str) -> Any:
        if self.answer == "record":
            return Echoed(id="r-1", session_token=STRANGER, note=f"signed {UNSUBSCRIBE}")
        return {
            "address": address,
            "verdict": "deliverable",
            "request": {"X-Api-Key": self.api_key.reveal(), "Authorization": f"Bearer {STRANGER}"},
            "token": STRANGER,
            "echo": f"key={self.api_key.reveal()} hmac={UNSUBSCRIBE}",
        }


def _registry() -> Registry:
    @hookimpl
    def aicmo_email_verifiers() -> list[ProviderType]:
        return [ProviderType(name="echo", factory=EchoingVerifier, settings=EchoSettings)]

    plugin = types.SimpleNamespace(aicmo_email_verifiers=aicmo_email_verifiers)
    return Registry.from_plugins({"echo": plugin})


def _config(folder: Path, answer: str) -> dict[str, Any]:
    return {
        "gateway": {"state_dir": str(folder / "state")},
        "email": {
            "unsubscribe_secret": "${UNSUBSCRIBE_SECRET}",
            "unsubscribe_url": "https://example.com/u/{token}",
            "suppression": "off",
        },
        "capabilities": {"email_verification": {"providers": ["echo"]}},
        "providers": {"echo": {"type": "echo", "api_key": "${VERIFY_KEY}", "answer": answer}},
    }


async def _recorded_value(folder: Path, answer: str) -> tuple[Any, str]:
    gateway = Gateway.from_config(_config(folder, answer), registry=_registry(), env=ENV)
    outcome = await gateway.email_verification.verify("ada@example.com")
    await gateway.aclose()
    assert outcome.status is Status.OK, outcome.reason
    line = json.loads((folder / "state" / "audit.jsonl").read_text(encoding="utf-8"))
    assert line["call_id"] == outcome.call_id
    return outcome.value, line["value"]


def _assert_clean(text: str) -> None:
    for secret in (API_KEY, UNSUBSCRIBE, STRANGER):
        assert secret not in text, text


async def test_a_returned_mapping_echoing_secrets_is_recorded_masked(tmp_path):
    value, recorded = await _recorded_value(tmp_path, "dict")
    assert value["token"] == STRANGER  # the caller still gets what the provider returned
    _assert_clean(recorded)
    assert f"'token': '{MASK}'" in recorded
    assert f"'Authorization': '{MASK}'" in recorded
    assert "'verdict': 'deliverable'" in recorded  # the rest stays readable


async def test_a_returned_record_echoing_secrets_is_recorded_masked(tmp_path):
    _, recorded = await _recorded_value(tmp_path, "record")
    _assert_clean(recorded)
    assert recorded == f"Echoed(id='r-1', session_token='{MASK}', note='signed {MASK}')"


async def test_the_cli_explain_json_shows_the_masked_summary(tmp_path):
    from click.testing import CliRunner

    from aicmo_gateway.cli import cli

    config = tmp_path / "aicmo-gateway.toml"
    config.write_text('[gateway]\nstate_dir = "state"\n', encoding="utf-8")
    gateway = Gateway.from_config(_config(tmp_path, "dict"), registry=_registry(), env=ENV)
    outcome = await gateway.email_verification.verify("ada@example.com")
    await gateway.aclose()
    result = CliRunner().invoke(
        cli, ["explain", outcome.call_id, "--json", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    _assert_clean(result.output)
    assert json.loads(result.output)["value"].startswith("{'address': 'ada@example.com'")


def test_the_gateway_secrets_include_url_passwords_and_values_from_the_environment():
    config = load_config(
        {
            "gateway": {"store": "${STORE_URL}", "outbox": "postgresql://app:db-pass-123@db/x"},
            "email": {"unsubscribe_secret": "${UNSUBSCRIBE_SECRET}", "suppression": "off"},
        },
        env={**ENV, "STORE_URL": "redis://:redis-pass-456@cache:6379/0"},
    )
    secrets = config.secret_values()
    assert UNSUBSCRIBE in secrets
    assert "db-pass-123" in secrets
    assert "redis-pass-456" in secrets
    assert "redis://:redis-pass-456@cache:6379/0" in secrets  # the whole value, from ${VAR}


def test_a_summary_is_the_repr_of_a_value_without_credentials():
    for value in (
        None,
        ("a",),
        {"a": [1, {"b": (2,)}], "c": frozenset({3})},
        CrmRecord(id="1", kind="contact", created=True),
        Verification(address="a@example.com", verdict="deliverable", checks={"mx": True}),
    ):
        shown = repr(value)
        assert summary(value) == (shown if len(shown) <= 200 else shown[:197] + "...")


def test_a_summary_is_cut_to_its_limit_without_rendering_the_rest():
    class Exploding:
        def __repr__(self) -> str:
            raise AssertionError("rendered past the limit")

    text = summary(["x" * 300, Exploding()], 50)
    assert len(text) == 50 and text.endswith("...")


def test_credential_names_are_recognised_in_their_usual_spellings():
    for name in ("password", "X-Api-Key", "Authorization", "Set-Cookie", "refresh_token", "auth"):
        assert is_secret_key(name), name
    for name in ("author", "message_id", "idempotency_key", "subject", "domain"):
        assert not is_secret_key(name), name
