"""A plugin written only against the public contract, really installed with pip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aicmo_gateway import Gateway, Status
from aicmo_gateway.plugins.registry import PluginStatus, Registry
from aicmo_gateway.ports import EmailMessage

FIXTURE = Path(__file__).parent / "fixtures" / "acme_plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("src") / "acme_plugin"
    import shutil

    shutil.copytree(FIXTURE, build)  # build outside the repository so it stays clean
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(build),
        ],
        check=True,
    )
    return target


def test_pip_installs_the_plugin_with_its_entry_point(installed):
    dist_infos = list(installed.glob("aicmo_gateway_acme-0.3.0.dist-info"))
    assert dist_infos
    assert "aicmo_gateway" in (dist_infos[0] / "entry_points.txt").read_text()


def test_the_installed_plugin_is_discovered(installed, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    registry = Registry.discover(path=[str(installed)], env={})
    acme = next(p for p in registry.plugins if p.distribution == "aicmo-gateway-acme")
    assert acme.status is PluginStatus.ACTIVE
    assert acme.version == "0.3.0"
    assert registry.get("email_sending", "acme").summary == "Acme Mail HTTP API"


async def test_a_chain_configured_with_the_plugin_uses_it(installed, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    registry = Registry.discover(path=[str(installed)], env={})
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["broken", "acme"]}},
            "providers": {
                "broken": {"type": "maildir", "path": "/dev/null/x"},
                "acme": {"type": "acme", "api_key": "${ACME_KEY}"},
            },
        },
        registry=registry,
        env={"ACME_KEY": "k-123456"},
    )
    outcome = await gateway.email_sending.send(
        EmailMessage(to="ada@example.com", subject="Hi", text="Hello")
    )
    assert outcome.status is Status.OK
    assert outcome.provider == "acme"
    assert outcome.value.provider_message_id.startswith("acme-")


def test_the_cli_lists_the_installed_plugin(installed):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    out = subprocess.run(
        [sys.executable, "-m", "aicmo_gateway.cli", "plugins", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    acme = next(p for p in json.loads(out)["plugins"] if p["name"] == "acme")
    assert acme["status"] == "active"
    assert acme["provider_types"] == {"email_sending": ["acme"]}
