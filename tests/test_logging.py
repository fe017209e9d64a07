"""Logging like a library: silent unless enabled; each line about a call names the call.

The library's loguru lines are disabled at import (``logger.disable("aicmo_gateway")``);
``logger.enable`` shows them, each line about a call carrying ``capability``, ``provider``
and ``call_id`` in its ``extra``; the command line shows warnings by default, INFO with
``-v`` and DEBUG with ``-vv``; no secret reaches a line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import click
import pytest
from click.testing import CliRunner
from loguru import logger

from aicmo_gateway import Gateway, ProviderType, hookimpl
from aicmo_gateway.errors import AuthError
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage, SendReceipt
from aicmo_gateway.secret import Secret

MESSAGE = EmailMessage(to="ada@example.com", sender="shop@example.com", subject="Hi", text="Hi")
PASSWORD = "pw-that-must-never-be-logged"


def _config(tmp_path: Path) -> dict[str, Any]:
    """A broken Maildir first (below a regular file), a working one second."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be\n", encoding="utf-8")
    return {
        "capabilities": {"email_sending": {"providers": ["broken", "backup"]}},
        "providers": {
            "broken": {"type": "maildir", "path": str(blocker / "Maildir")},
            "backup": {"type": "maildir", "path": str(tmp_path / "Maildir")},
        },
    }


@pytest.fixture
def records() -> Iterator[list[dict[str, Any]]]:
    """The records of every line the core logs during the test, with it enabled."""
    seen: list[dict[str, Any]] = []
    logger.enable("aicmo_gateway")
    handler = logger.add(lambda m: seen.append(m.record), level="DEBUG", format="{message}")
    yield seen
    logger.remove(handler)
    logger.disable("aicmo_gateway")


def test_the_library_logs_nothing_until_the_application_enables_it(tmp_path):
    # a fresh interpreter: loguru's default handler on standard error, as an application has
    code = textwrap.dedent(
        f"""
        import asyncio
        from aicmo_gateway import Gateway
        from aicmo_gateway.ports import EmailMessage

        async def main():
            config = {_config(tmp_path)!r}
            async with Gateway.from_config(config) as gateway:
                message = EmailMessage(to="ada@example.com", subject="Hi", text="Hi")
                for _ in range(6):
                    assert (await gateway.email_sending.send(message)).ok

        asyncio.run(main())
        print("sent")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "AICMO_GATEWAY_CONFIG": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sent"
    assert done.stderr == ""


async def test_enabled_every_line_about_a_call_names_its_capability_provider_and_call(
    tmp_path, records
):
    async with Gateway.from_config(_config(tmp_path)) as gateway:
        outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.ok and outcome.provider == "backup"
    about_the_call = [r for r in records if r["extra"].get("call_id") == outcome.call_id]
    by_provider = {r["extra"]["provider"]: r for r in about_the_call}
    # the engine's line on the failed attempt and the Maildir's own line on the delivery
    assert "broken failed (Unavailable)" in by_provider["broken"]["message"]
    assert by_provider["backup"]["message"].startswith("delivered ")
    for record in about_the_call:
        assert record["extra"]["capability"] == "email_sending"
    # nothing logged during the call goes without the call's fields
    assert len(about_the_call) == len(records)


async def test_concurrent_attempts_of_a_fanout_each_name_their_own_provider(tmp_path, records):
    config = _config(tmp_path)
    config["capabilities"]["email_sending"]["strategy"] = "fanout"
    config["providers"]["other"] = {"type": "maildir", "path": str(tmp_path / "Other")}
    config["capabilities"]["email_sending"]["providers"] = ["backup", "broken", "other"]
    async with Gateway.from_config(config) as gateway:
        outcome = await gateway.email_sending.send(MESSAGE)
    lines = [(r["extra"]["provider"], r["message"]) for r in records]
    # each attempt runs in its own task: its lines name its own provider, never another's
    assert [m for p, m in lines if "broken failed" in m] == [m for p, m in lines if p == "broken"]
    assert any("broken failed" in m for _, m in lines)
    delivered = sorted(p for p, m in lines if m.startswith("delivered "))
    assert delivered == ["backup", "other"]
    assert {r["extra"]["call_id"] for r in records} == {outcome.call_id}


async def test_a_call_that_fails_everywhere_is_a_warning_naming_the_call(tmp_path, records):
    config = _config(tmp_path)
    config["capabilities"]["email_sending"]["providers"] = ["broken"]
    async with Gateway.from_config(config) as gateway:
        outcome = await gateway.email_sending.send(MESSAGE)
    assert outcome.status == "failed"
    warning = next(r for r in records if r["level"].name == "WARNING")
    assert warning["extra"] == {
        "capability": "email_sending",
        "provider": "broken",
        "call_id": outcome.call_id,
    }


async def test_lines_outside_a_call_carry_no_call_fields(tmp_path, records):
    async with Gateway.from_config(_config(tmp_path)) as gateway:
        await gateway.email_sending.send(MESSAGE)
    logger.info("after the call")
    assert "call_id" not in records[-1]["extra"]


@attrs.define
class Echoing:
    """Refuses every login, echoing the password it was configured with."""

    password: Secret

    async def send(self, message: EmailMessage) -> SendReceipt:
        raise AuthError(f"535 login with {self.password.reveal()} refused")


async def test_no_secret_reaches_a_log_line(records):
    @hookimpl
    def aicmo_email_senders() -> list[ProviderType]:
        return [ProviderType(name="echoing", factory=Echoing)]

    registry = Registry.from_plugins(
        {"echo": types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)}
    )
    config = {
        "capabilities": {"email_sending": {"providers": ["echo"]}},
        "providers": {"echo": {"type": "echoing", "password": "${ECHO_PASSWORD}"}},
    }
    gateway = Gateway.from_config(config, registry=registry, env={"ECHO_PASSWORD": PASSWORD})
    async with gateway:
        for _ in range(2):  # refused, then skipped while cooling down
            await gateway.email_sending.send(MESSAGE)
    lines = [r["message"] + repr(r["extra"]) for r in records]
    assert any("535 login with" in line for line in lines)
    assert not [line for line in lines if PASSWORD in line]


# -- the command line ----------------------------------------------------------------


@click.command("send-twice")
@click.argument("folder", type=click.Path(path_type=Path))
def _send_twice(folder: Path) -> None:
    """Two sends through a chain whose first provider is broken (a test command)."""
    import asyncio

    folder.mkdir(exist_ok=True)

    async def main() -> None:
        async with Gateway.from_config(_config(folder)) as gateway:
            for _ in range(2):
                await gateway.email_sending.send(MESSAGE)
        config = _config(folder)
        config["capabilities"]["email_sending"]["providers"] = ["broken"]
        async with Gateway.from_config(config) as gateway:
            await gateway.email_sending.send(MESSAGE)  # fails: a warning

    asyncio.run(main())
    click.echo("done")


@pytest.fixture
def cli_with_a_sending_command() -> Iterator[click.Group]:
    from aicmo_gateway.cli import cli

    cli.add_command(_send_twice)
    yield cli
    cli.commands.pop("send-twice")


@pytest.mark.parametrize(
    ("flags", "levels"),
    [
        ([], {"WARNING"}),
        (["-v"], {"WARNING", "INFO"}),
        (["-vv"], {"WARNING", "INFO", "DEBUG"}),
    ],
)
def test_the_command_line_shows_warnings_by_default_info_with_v_and_debug_with_vv(
    cli_with_a_sending_command, tmp_path, flags, levels
):
    result = CliRunner().invoke(cli_with_a_sending_command, [*flags, "send-twice", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "done\n"
    lines = result.stderr.splitlines()
    shown = {line.split()[1] for line in lines}
    assert shown == levels, result.stderr
    for line in lines:  # every line here is about a call: its fields lead the message
        assert "[email_sending/" in line and " call " in line, line
    if "INFO" in levels:
        assert any("[email_sending/broken call " in line for line in lines)
    if "DEBUG" in levels:
        assert any("[email_sending/backup call " in line and "delivered" in line for line in lines)


def test_after_a_command_the_library_is_silent_again(cli_with_a_sending_command, tmp_path):
    import asyncio

    result = CliRunner().invoke(
        cli_with_a_sending_command, ["-vv", "send-twice", str(tmp_path / "cli")]
    )
    assert result.exit_code == 0, result.output
    seen: list[str] = []
    handler = logger.add(seen.append, level="DEBUG")

    async def fail_over() -> None:
        async with Gateway.from_config(_config(tmp_path)) as gateway:
            assert (await gateway.email_sending.send(MESSAGE)).provider == "backup"

    try:
        asyncio.run(fail_over())
    finally:
        logger.remove(handler)
    assert seen == []
