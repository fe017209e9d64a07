"""The core's own plugin registers the built-in provider types for every port."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aicmo_gateway.builtin import plugin
from aicmo_gateway.plugins.provider_type import Idempotency, ProviderType
from aicmo_gateway.ports import PORTS


def types_for(hook: str) -> dict[str, ProviderType]:
    return {pt.name: pt for pt in getattr(plugin, hook)()}


@pytest.mark.parametrize("hook", sorted(spec.hook for spec in PORTS.values()))
def test_every_port_has_a_noop_type_that_comes_last(hook: str) -> None:
    noop = types_for(hook)["noop"]
    assert noop.priority < 0
    assert noop.summary


def test_the_maildir_sender_declares_message_id_idempotency() -> None:
    maildir = types_for("aicmo_email_senders")["maildir"]
    assert maildir.idempotency is Idempotency.MESSAGE_ID
    assert maildir.has_check


def test_the_maildir_fetcher_is_registered() -> None:
    assert "maildir" in types_for("aicmo_reply_fetchers")


def test_the_sqlite_crm_declares_a_native_batch() -> None:
    sqlite = types_for("aicmo_crm_syncers")["sqlite"]
    assert sqlite.batch_size == 500


def test_the_settings_of_a_builtin_type_are_its_attrs_fields() -> None:
    from aicmo_gateway.builtin.sqlite_crm import SqliteCrm

    sqlite = types_for("aicmo_crm_syncers")["sqlite"]
    assert sqlite.settings is SqliteCrm
    assert isinstance(sqlite.factory(path=":memory:"), SqliteCrm)


def test_importing_the_plugin_does_not_import_the_provider_modules() -> None:
    code = (
        "import sys, aicmo_gateway.builtin.plugin\n"
        "loaded = [m for m in ('aicmo_gateway.builtin.maildir', "
        "'aicmo_gateway.builtin.maildir_fetcher', "
        "'aicmo_gateway.builtin.sqlite_crm') if m in sys.modules]\n"
        "print(loaded)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
