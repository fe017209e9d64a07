"""The installed distribution: discovery, lazy imports, and a fetch through the gateway."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

from aicmo_gateway_imap import ImapSettings
from aicmo_gateway_imap.fetcher import ImapReplyFetcher

from aicmo_gateway import Gateway, Status
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import ReplyBatch


def test_discovery_finds_an_active_imap_reply_fetcher():
    registry = Registry.discover(env={})
    imap = registry.get("reply_fetching", "imap")
    assert imap.distribution == "aicmo-gateway-imap"
    assert imap.settings is ImapSettings
    assert imap.traits["has_check"] is True
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-imap"]
    assert info.status.value == "active" and info.reason is None


def test_discovery_does_not_import_the_imap_library():
    script = textwrap.dedent(
        """
        import sys
        from aicmo_gateway.plugins.registry import Registry
        Registry.discover(env={}).get("reply_fetching", "imap")
        assert "imapclient" not in sys.modules, "imapclient was imported at discovery"
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_the_factory_builds_a_fetcher_from_config_keys():
    imap = Registry.discover(env={}).get("reply_fetching", "imap")
    provider = imap.factory(preset="gmail", username="a@example.com", password="app-password")
    assert isinstance(provider, ImapReplyFetcher)
    assert provider.settings.host == "imap.gmail.com"
    assert "app-password" not in repr(provider)


async def test_a_gateway_configured_with_imap_fetches_replies(
    imap_server: Any, mailroom: Any, raw_message: Any
):
    mailroom.deliver(raw_message(1))
    config = {
        "capabilities": {"reply_fetching": {"providers": ["inbox"]}},
        "providers": {
            "inbox": {
                "type": "imap",
                "host": "127.0.0.1",
                "port": imap_server.port,
                "security": "none",
                "username": "sales@example.com",
                "password": "${IMAP_PASSWORD}",
                "mailbox": mailroom.mailbox,
            }
        },
    }
    gateway = Gateway.from_config(config, env={"IMAP_PASSWORD": "correct horse battery staple"})
    try:
        outcome = await gateway.reply_fetching.fetch_replies(None)
        assert outcome.status is Status.OK, outcome
        assert isinstance(outcome.value, ReplyBatch)
        assert [r.message_id for r in outcome.value.replies] == ["<reply-1@example.com>"]
        (result,) = await gateway.check(timeout=10)
        assert result.ok, result.detail
    finally:
        await gateway.aclose()


def test_a_bad_setting_in_the_config_names_the_key():
    import pytest

    from aicmo_gateway.errors import ConfigError

    config = {
        "capabilities": {"reply_fetching": {"providers": ["inbox"]}},
        "providers": {
            "inbox": {
                "type": "imap",
                "preset": "gmail",
                "security": "none",
                "ca_file": "/etc/ssl/ca.pem",
                "username": "sales@example.com",
                "password": "secret-value",
            }
        },
    }
    with pytest.raises(ConfigError, match="ca_file") as caught:
        Gateway.from_config(config, env={})
    assert "secret-value" not in str(caught.value)


def test_a_refused_value_from_the_environment_is_shown_as_written():
    import pytest

    from aicmo_gateway.errors import ConfigError

    secret = "SECRET-hunter2"
    for setting, key in [
        ({"preset": "${VALUE}"}, "preset"),
        ({"host": "h", "security": "${VALUE}"}, "security"),
        ({"host": "h", "ca_file": "/nonexistent/${VALUE}.pem"}, "ca_file"),
        ({"host": "h", "mailbox": "${VALUE}\r\n"}, "mailbox"),
    ]:
        config = {
            "capabilities": {"reply_fetching": {"providers": ["inbox"]}},
            "providers": {"inbox": {"type": "imap", "username": "u", "password": "p", **setting}},
        }
        with pytest.raises(ConfigError) as caught:
            Gateway.from_config(config, env={"VALUE": secret})
        assert secret not in str(caught.value)
        [problem] = caught.value.problems
        assert problem.key == f"providers.inbox.{key}" and "${VALUE}" in problem.message
