"""Through the gateway: fanout to several endpoints, safe retries, a disabled endpoint, secrets."""

from __future__ import annotations

from typing import Any

import pytest

from aicmo_gateway import ConfigError, Gateway, Status
from aicmo_gateway.ports import WebhookEvent

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PATHS = ("/hooks/a", "/hooks/b", "/hooks/c")
EVENT = WebhookEvent(type="lead.replied", data={"lead": 42})


def config(receiver: Any, names: dict[str, str], strategy: str = "failover", **keys: Any) -> Any:
    return {
        "capabilities": {"webhook_dispatch": {"providers": list(names), "strategy": strategy}},
        "providers": {
            name: {
                "type": "webhook",
                "url": receiver.url(path),
                "secret": "${WEBHOOK_SECRET}",
                "allow_private": True,
                **keys,
            }
            for name, path in names.items()
        },
    }


def gateway(receiver: Any, names: dict[str, str], **options: Any) -> Gateway:
    env = {"WEBHOOK_SECRET": SECRET, **options.pop("env", {})}
    return Gateway.from_config(config(receiver, names, **options), env=env)


THREE = {"make": PATHS[0], "zap": PATHS[1], "n8n": PATHS[2]}


async def test_fanout_delivers_to_every_endpoint_once(receiver):
    async with gateway(receiver, THREE, strategy="fanout") as gw:
        outcome = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-1")
    assert outcome.status is Status.OK
    assert set(outcome.value) == set(THREE)
    assert all(receiver.ids(p) == ["evt-1"] for p in PATHS)
    assert all(r.verified for r in receiver.requests)


async def test_a_fanout_retried_after_one_endpoint_failed_delivers_only_there(receiver):
    receiver.answer(PATHS[1], 503)  # zap refuses the first delivery
    async with gateway(receiver, THREE, strategy="fanout") as gw:
        first = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-2")
        second = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-2")
    assert first.status is Status.FAILED and "not delivered by zap" in first.reason
    assert second.status is Status.OK and set(second.value) == set(THREE)
    assert receiver.ids(PATHS[0]) == ["evt-2"]
    assert receiver.ids(PATHS[1]) == ["evt-2", "evt-2"]
    assert receiver.ids(PATHS[2]) == ["evt-2"]
    assert sorted(p for p, _, _ in receiver.processed) == sorted(PATHS)


async def test_an_ambiguous_500_is_retried_on_the_same_endpoint_with_the_same_id(receiver):
    receiver.answer(PATHS[1], 500, process=True)  # processed, then it crashed
    async with gateway(receiver, THREE, strategy="fanout") as gw:
        outcome = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-3")
    assert outcome.status is Status.OK
    assert receiver.ids(PATHS[1]) == ["evt-3", "evt-3"]
    assert len(receiver.processed) == 3  # the receiver dropped the repeated webhook-id


async def test_a_timeout_is_retried_here_and_the_receiver_processes_it_once(receiver):
    receiver.answer(PATHS[0], 200, delay=1.5)
    async with gateway(receiver, {"hook": PATHS[0]}, timeout=0.3) as gw:
        outcome = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-4")
    assert outcome.status is Status.OK
    assert [a.error for a in outcome.attempts] == ["Ambiguous", None]
    assert receiver.ids(PATHS[0]) == ["evt-4", "evt-4"]
    assert len(receiver.processed) == 1


async def test_a_429_skips_the_endpoint_for_the_wait_it_asked(receiver):
    receiver.answer(PATHS[0], 429, headers={"Retry-After": "120"})
    async with gateway(receiver, {"hook": PATHS[0], "backup": PATHS[1]}) as gw:
        first = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-5")
        second = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-6")
        (hook,) = [p for p in gw.status() if p["provider"] == "hook"]
    assert first.provider == "backup" and second.provider == "backup"
    assert receiver.ids(PATHS[0]) == ["evt-5"]  # skipped during the wait
    assert hook["cooldown_until"] is not None and "RateLimited" in hook["reason"]


async def test_a_410_disables_the_endpoint_and_status_says_why(receiver):
    receiver.answer(PATHS[0], 410, body="this webhook was deleted")
    async with gateway(receiver, {"gone": PATHS[0], "backup": PATHS[1]}) as gw:
        first = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-7")
        second = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-8")
        (gone,) = [p for p in gw.status() if p["provider"] == "gone"]
    assert first.status is second.status is Status.OK
    assert first.provider == second.provider == "backup"
    assert receiver.ids(PATHS[0]) == ["evt-7"]
    assert "HTTP 410" in gone["reason"] and "disabled" in gone["reason"]
    assert gone["cooldown_until"] is not None


async def test_header_values_from_the_environment_never_show(receiver, log_lines):
    token = "n8n-H3ader-T0ken-value"
    receiver.answer(PATHS[0], 403, body=f'{{"message": "bad token {token}"}}')
    gw = gateway(
        receiver,
        {"hook": PATHS[0]},
        preset="n8n",
        headers={"X-N8N-Auth": "${N8N_TOKEN}"},
        env={"N8N_TOKEN": token},
    )
    async with gw:
        outcome = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-9")
        provider = gw.chains["webhook_dispatch"].slots[0].provider
    assert receiver.requests[0].headers["x-n8n-auth"] == token
    assert outcome.status is Status.FAILED and "Header Auth" in outcome.reason
    texts = [outcome.reason, repr(provider), repr(provider.settings), *log_lines]
    texts += [a.detail or "" for a in outcome.attempts]
    for text in texts:
        assert token not in text and SECRET not in text and "MfKQ9r8G" not in text
    assert any("********" in text for text in texts)


async def test_the_url_path_is_kept_out_of_reprs_and_errors(receiver, log_lines):
    receiver.answer(PATHS[0], 500, body=f'{{"message": "no hook at {PATHS[0]}"}}')
    receiver.answer(PATHS[0], 500)
    async with gateway(receiver, {"hook": PATHS[0]}) as gw:
        outcome = await gw.webhook_dispatch.dispatch(EVENT, idempotency_key="evt-10")
        provider = gw.chains["webhook_dispatch"].slots[0].provider
    assert outcome.status is Status.UNCERTAIN
    for text in [outcome.reason, repr(provider), repr(provider.settings), *log_lines]:
        assert PATHS[0] not in text


@pytest.mark.parametrize(
    ("keys", "where", "message"),
    [
        ({"secret": "my passphrase"}, "secret", "whsec_"),
        ({"preset": "ifttt"}, "preset", "make, zapier, n8n"),
        ({"preset": "zapier"}, "url", "hooks.zapier.com"),
        ({"headers": {"webhook-id": "x"}}, "headers", "set by the plugin"),
        ({"allow_private": "yes"}, "allow_private", ""),
    ],
)
def test_bad_keys_are_config_errors_naming_the_key(receiver, keys, where, message):
    raw = config(receiver, {"hook": PATHS[0]})
    raw["providers"]["hook"].update(keys)
    with pytest.raises(ConfigError) as caught:
        Gateway.from_config(raw, env={"WEBHOOK_SECRET": SECRET})
    text = str(caught.value)
    assert f"providers.hook.{where}" in text and message in text
