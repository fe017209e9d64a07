"""Secrets a provider echoes in its errors never reach anything the engine keeps or shows.

The provider here answers as a server that echoes the login it was sent (some do, in their
535 replies): the password, the username (from the environment), the ``AUTH PLAIN``
argument in base64 and the URL-encoded password, in the text of an ``AuthError`` (which
cools the provider down, so later calls carry the reason too).
"""

from __future__ import annotations

import base64
import json
import time
import types
from typing import Any

import attrs
import pytest

from aicmo_gateway import (
    AuthError,
    Gateway,
    OutcomeError,
    ProviderType,
    RateLimited,
    Secret,
    Status,
    hookimpl,
)
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage, SendReceipt
from aicmo_gateway.scrub import PREFIX, Scrubber

USER = "sales-robot@example.com"
PASSWORD = "pw with/odd+chars&more"
PLAIN = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
ENV = {"ECHO_USER": USER, "ECHO_PASSWORD": PASSWORD}
FORMS = {
    "password": PASSWORD,
    "username": USER,
    "AUTH PLAIN": PLAIN,
    "URL-encoded password": "pw%20with%2Fodd%2Bchars%26more",
}
MESSAGE = EmailMessage(to="ada@example.com", sender="shop@example.com", subject="Hi", text="Hi")


@attrs.define
class Echoing:
    """Refuses every login, echoing it; ``error="rate"`` makes it a 429 echoing the same,
    ``error="none"`` a success whose receipt echoes the login."""

    username: str
    password: Secret
    extra: list[str] = attrs.field(factory=list)
    error: str = "auth"

    async def send(self, message: EmailMessage) -> SendReceipt:
        text = (
            f"535 5.7.8 login {self.username} / {self.password.reveal()} refused "
            f"(AUTH PLAIN {PLAIN}, form password=pw%20with%2Fodd%2Bchars%26more) {self.extra}"
        )
        if self.error == "none":
            return SendReceipt(message_id=f"<{PLAIN}@echo>", location=text)
        if self.error == "rate":
            raise RateLimited(text, retry_after=60)
        raise AuthError(text)


def _registry() -> Registry:
    @hookimpl
    def aicmo_email_senders() -> list[ProviderType]:
        return [ProviderType(name="echoing", factory=Echoing)]

    plugin = types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)
    return Registry.from_plugins({"echo": plugin})


def _gateway(tmp_path: Any, **provider: Any) -> Gateway:
    config = {
        "gateway": {"state_dir": str(tmp_path / "state")},
        "capabilities": {"email_sending": {"providers": ["echo"]}},
        "providers": {
            "echo": {
                "type": "echoing",
                "username": "${ECHO_USER}",
                "password": "${ECHO_PASSWORD}",
                **provider,
            }
        },
    }
    return Gateway.from_config(config, registry=_registry(), env=ENV)


def _assert_clean(text: str) -> None:
    for name, form in FORMS.items():
        assert form not in text, f"the {name} leaked: {text!r}"


@pytest.fixture(params=["auth", "rate"])
async def two_calls(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[Gateway, list[Any]]:
    """A gateway after two sends: one refused with the echo, one skipped for the cooldown."""
    gateway = _gateway(tmp_path, error=request.param)
    outcomes = [await gateway.email_sending.send(MESSAGE) for _ in range(2)]
    assert [o.status for o in outcomes] == [Status.FAILED, Status.FAILED]
    return gateway, outcomes


async def test_the_echoed_login_is_not_in_the_first_outcome(two_calls):
    _, outcomes = two_calls
    _assert_clean(repr(outcomes[0]))
    assert "********" in outcomes[0].attempts[0].detail


async def test_the_cooldown_does_not_carry_the_echo_into_later_calls(two_calls):
    _, outcomes = two_calls
    assert outcomes[1].attempts[0].action == "skip"
    _assert_clean(repr(outcomes[1]))


async def test_the_echo_is_not_in_outcome_errors(two_calls):
    _, outcomes = two_calls
    for outcome in outcomes:
        with pytest.raises(OutcomeError) as caught:
            outcome.unwrap()
        _assert_clean(str(caught.value))
        _assert_clean(repr(caught.value))


async def test_the_echo_is_not_in_status_explain_or_the_dry_run_plan(two_calls):
    gateway, outcomes = two_calls
    _assert_clean(repr(gateway.status()))
    for outcome in outcomes:
        _assert_clean(gateway.explain(outcome.call_id))
    chain = gateway.chains["email_sending"]
    _assert_clean(repr(chain.plan()))
    planned = await chain.call("send", MESSAGE, dry_run=True)
    _assert_clean(repr(planned))


async def test_the_echo_is_not_in_the_state_files(two_calls, tmp_path):
    gateway, _ = two_calls
    await gateway.aclose()
    for name in ("audit.jsonl", "health.json"):
        text = (tmp_path / "state" / name).read_text(encoding="utf-8")
        _assert_clean(text)
        _assert_clean(json.dumps(json.loads(text.splitlines()[0] if name.endswith("l") else text)))


def test_a_slot_repr_shows_no_secret(tmp_path):
    gateway = _gateway(tmp_path)
    slot = gateway.chains["email_sending"].slots[0]
    _assert_clean(repr(slot))
    assert slot.secrets  # held, for scrubbing, but never shown


async def test_secrets_inside_list_settings_from_the_environment_are_scrubbed(tmp_path):
    config = {
        "capabilities": {"email_sending": {"providers": ["echo"]}},
        "providers": {
            "echo": {
                "type": "echoing",
                "username": "plain-user",
                "password": "literal-password",
                "extra": ["${ECHO_TOKEN}"],
            }
        },
    }
    gateway = Gateway.from_config(config, registry=_registry(), env={"ECHO_TOKEN": "tok-in-a-list"})
    outcome = await gateway.email_sending.send(MESSAGE)
    assert "tok-in-a-list" not in repr(outcome)
    assert "literal-password" not in repr(outcome)


@pytest.mark.parametrize(
    "encoded",
    [
        'hunter22! "x',
        "hunter22%21%20%22x",
        "hunter22%21+%22x",
        'hunter22! \\"x',
        base64.b64encode(b'me:hunter22! "x').decode(),
        base64.urlsafe_b64encode(b'\xfb\xff me\0hunter22! "x').decode().rstrip("="),
        base64.b64encode(b'\0me\0hunter22! "x').decode(),
        'HUNTER22! "X',
        'Hunter22! "x',
        b'hunter22! "x'.hex(),
        b'hunter22! "x'.hex().upper(),
    ],
    ids=[
        "as-is",
        "url",
        "url-plus",
        "json",
        "basic",
        "urlsafe-unpadded",
        "auth-plain",
        "upper-case",
        "capitalised",
        "hex",
        "hex-upper",
    ],
)
@pytest.mark.parametrize("glue", ["", "x", "Basic "])
def test_the_scrubber_masks_the_usual_encodings_of_a_secret(encoded, glue):
    scrubbed = Scrubber(['hunter22! "x'])(f"535 refused {glue}{encoded} (bad login)")
    assert encoded not in scrubbed
    assert "hunter22" not in scrubbed.lower()
    assert scrubbed.startswith("535 refused ") and scrubbed.endswith(" (bad login)")


def test_the_scrubber_leaves_other_text_and_short_values_alone():
    assert Scrubber(["abc"])("abc AAAAAAAA") == "abc AAAAAAAA"
    assert Scrubber(["hunter22"])("nothing to hide QUJDREVGR0g=") == "nothing to hide QUJDREVGR0g="


@pytest.mark.parametrize(
    "text",
    [
        "535 refused hunter22-long-pass for me",
        "535 refused hunter22-lo...",
        "535 refused hunter22-lo\u2026 (cut)",
        "535 refused hunter22",
        "535 " + base64.b64encode(b"\0me\0hunter22-long-pass").decode()[:-8] + "...",
    ],
    ids=["whole", "cut-with-dots", "cut-with-ellipsis", "cut-at-the-end", "cut-base64"],
)
def test_a_secret_cut_short_by_a_truncated_text_is_masked(text):
    scrubbed = Scrubber(["hunter22-long-pass"])(text)
    assert "hunter22" not in scrubbed
    assert base64.b64encode(b"\0me\0hunter22")[:16].decode() not in scrubbed
    assert "********" in scrubbed


def test_a_short_beginning_or_one_not_at_a_cut_is_left_alone():
    scrubber = Scrubber(["hunter22-long-pass"])
    assert scrubber("hunt...") == "hunt..."
    assert scrubber("hunter22-lo and more") == "hunter22-lo and more"


def test_a_long_secret_cut_short_in_a_long_text_is_masked_quickly():
    key = "".join(chr(ord("a") + (i * 7) % 26) for i in range(4096))  # a PEM-sized secret
    text = "x" * 1_000_000 + " key " + key[:1000] + "... " + "QUJD" * 10_000
    started = time.perf_counter()
    scrubbed = Scrubber([key])(text)
    assert time.perf_counter() - started < 5  # about 20 ms: linear in the text and the secret
    assert key[:PREFIX] not in scrubbed
    assert " key ********... " in scrubbed


async def test_a_value_echoing_the_secret_is_masked_in_the_audit_file(tmp_path):
    """A provider that puts its login in what it returns (a receipt echoing the request)
    has the value summarised in ``audit.jsonl`` with the secret masked; the caller still
    gets the value as the provider returned it."""
    gateway = _gateway(tmp_path, error="none")
    outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status is Status.OK
    assert PASSWORD in repr(outcome.value)  # the caller's own value is not altered
    await gateway.aclose()
    line = json.loads((tmp_path / "state" / "audit.jsonl").read_text(encoding="utf-8"))
    assert line["call_id"] == outcome.call_id
    _assert_clean(line["value"])
    assert "********" in line["value"]
