"""Install hints name only what can be installed: from a checkout until an index serves it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from aicmo_gateway import UnknownProviderType
from aicmo_gateway.plugins.known import (
    IN_REPOSITORY,
    KNOWN_PROVIDER_TYPES,
    PUBLISHED,
    install_command,
)
from aicmo_gateway.plugins.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = set(IN_REPOSITORY) | {dist for dist, _ in KNOWN_PROVIDER_TYPES.values()}
TEXTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "plugins").glob("*/README.md")),
    *sorted((ROOT / "core").rglob("*.py")),
    *sorted((ROOT / "plugins").glob("*/aicmo_gateway_*/**/*.py")),
]
_PIP_INSTALL = re.compile(r"pip install\s+(?:-U\s+)?['\"]?(aicmo-gateway(?:-[a-z0-9]+)*)")


def unknown_type_message(type_name: str, capability: str) -> str:
    registry = Registry.discover(env={"AICMO_GATEWAY_LOAD_PLUGINS": ""})
    with pytest.raises(UnknownProviderType) as info:
        registry.get(capability, type_name)
    return str(info.value)


def test_a_plugin_in_this_repository_is_installed_from_a_checkout_until_it_is_published():
    message = unknown_type_message("smtp", "email_sending")
    assert message.endswith(
        "install aicmo-gateway-smtp from a checkout of the aicmo-gateway repository "
        "(it is not on PyPI yet) with: pip install ./plugins/smtp"
    )
    assert "pip install aicmo-gateway-smtp" not in message


def test_a_planned_plugin_is_named_as_not_released_with_no_command_to_run():
    message = unknown_type_message("hubspot", "crm_sync")
    assert message.endswith("aicmo-gateway-hubspot will provide it; it is not released yet")
    assert "pip install" not in message


def test_once_published_the_hint_is_the_plain_pip_install(monkeypatch):
    monkeypatch.setattr("aicmo_gateway.plugins.known.PUBLISHED", frozenset({"aicmo-gateway-smtp"}))
    message = unknown_type_message("smtp", "email_sending")
    assert message.endswith("install aicmo-gateway-smtp with: pip install aicmo-gateway-smtp")


def test_every_plugin_folder_of_the_repository_is_known_with_its_distribution():
    found = {".": tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]}
    for path in (ROOT / "plugins").glob("*/pyproject.toml"):
        found[path.parent.relative_to(ROOT).as_posix()] = tomllib.loads(path.read_text())[
            "project"
        ]["name"]
    assert {folder: dist for dist, folder in IN_REPOSITORY.items()} == found, (
        "plugins.known.IN_REPOSITORY must list every distribution of this repository and its "
        "folder, so that hints can say how to install it"
    )


@pytest.mark.parametrize("readme", sorted((ROOT / "plugins").glob("*/README.md")), ids=str)
def test_every_plugin_readme_shows_the_command_the_hints_give(readme):
    name = tomllib.loads((readme.parent / "pyproject.toml").read_text())["project"]["name"]
    command = install_command(name)
    assert command is not None
    assert command in readme.read_text(), f"{readme} should show `{command}`"


def test_no_page_or_message_tells_to_pip_install_an_unpublished_first_party_distribution():
    found = []
    for path in TEXTS:
        text = path.read_text(encoding="utf-8")
        for match in _PIP_INSTALL.finditer(text):
            name = match.group(1)
            if name in FIRST_PARTY and name not in PUBLISHED:
                line = text[: match.start()].count("\n") + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not found, (
        "these name distributions no index serves yet; say how to install them from a checkout "
        "(see aicmo_gateway.plugins.known.install_command):\n" + "\n".join(found)
    )


def test_the_http_layers_hint_for_a_missing_httpx_is_the_one_the_hints_give():
    from aicmo_gateway.http.client import HTTPX_MISSING
    from aicmo_gateway.plugins.known import how_to_install

    hint = how_to_install("aicmo-gateway", "http")
    assert hint is not None
    assert HTTPX_MISSING.endswith(hint)


def _entry_point_modules(folder: Path) -> list[str]:
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    return sorted(project.get("entry-points", {}).get("aicmo_gateway", {}).values())


@pytest.mark.parametrize(
    "distribution", sorted(d for d, folder in IN_REPOSITORY.items() if folder != "."), ids=str
)
def test_every_provider_type_of_a_plugin_in_this_repository_hints_at_its_folder(
    distribution, monkeypatch
):
    """An unknown type that a plugin of this repository provides names the command that
    installs that plugin from a checkout (a new plugin must add its types to
    KNOWN_PROVIDER_TYPES).

    The plugin is imported from its folder when it is not installed (the core's own test
    session installs no plugin): its entry-point module imports only the core and itself.
    """
    import importlib

    from aicmo_gateway.ports import PORTS

    folder = ROOT / IN_REPOSITORY[distribution]
    monkeypatch.syspath_prepend(str(folder))
    provided = []
    for module_name in _entry_point_modules(folder):
        module = importlib.import_module(module_name)
        for capability, spec in PORTS.items():
            hook = getattr(module, spec.hook, None)
            provided += [(capability, t.name) for t in (hook() if hook else [])]
    for capability, type_name in provided:
        known = KNOWN_PROVIDER_TYPES.get(type_name)
        assert known is not None and known[0] == distribution and capability in known[1], (
            f"{distribution} provides {capability} type {type_name!r}: list it in "
            "aicmo_gateway.plugins.known.KNOWN_PROVIDER_TYPES, so a config naming it without "
            "the plugin installed says what to install"
        )
        message = unknown_type_message(type_name, capability)
        assert message.endswith(f"with: pip install ./{IN_REPOSITORY[distribution]}"), message


def test_the_commands_the_hints_give_install_every_distribution_from_a_checkout(tmp_path):
    """``pip install ./plugins/<name>`` run at the root of a checkout resolves, for every
    distribution of the repository, to that distribution (pip builds its metadata, offline)."""
    import json

    targets = {}
    for distribution in IN_REPOSITORY:
        command = install_command(distribution)
        assert command is not None and command.startswith("pip install ")
        targets[distribution] = command.removeprefix("pip install ")
    report = tmp_path / "report.json"
    pip = [sys.executable, "-m", "pip", "install", "--report", str(report)]
    offline = ["--dry-run", "--quiet", "--no-deps", "--no-index", "--no-build-isolation"]
    done = subprocess.run(
        [*pip, *offline, *targets.values()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    installed = {item["metadata"]["name"] for item in json.loads(report.read_text())["install"]}
    assert installed == set(targets)
