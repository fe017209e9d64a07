"""The documentation covers the contract: every hook, command, capability and built-in setting."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import attrs
import click
import pytest

from aicmo_gateway.cli import cli
from aicmo_gateway.plugins import hookspecs
from aicmo_gateway.plugins.registry import CORE_DISTRIBUTION, Registry
from aicmo_gateway.ports import PORTS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def read(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def headings(text: str, level: int) -> list[str]:
    marker = "#" * level + " "
    return [line[len(marker) :].strip() for line in text.splitlines() if line.startswith(marker)]


def section(text: str, heading: str) -> str:
    """The lines from ``heading`` (a full heading line) to the next heading of any level."""
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return "\n".join(lines[start:end])


# -- hooks ---------------------------------------------------------------------

HOOKS = sorted(
    name
    for name, obj in vars(hookspecs).items()
    if name.startswith("aicmo_") and inspect.isfunction(obj)
)


def test_there_are_nine_hooks_to_document() -> None:
    assert len(HOOKS) == 9, HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_heading_in_the_hook_reference(hook: str) -> None:
    assert hook in headings(read("plugins/hooks.md"), 2), (
        f"docs/plugins/hooks.md has no '## {hook}' heading; document what it receives and returns"
    )


def test_the_hook_reference_documents_no_hook_that_does_not_exist() -> None:
    documented = [h for h in headings(read("plugins/hooks.md"), 2) if h.startswith("aicmo_")]
    assert sorted(documented) == HOOKS


# -- the command line ------------------------------------------------------------


def command_paths(group: click.Command, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command and subcommand as ('config check', command), found by walking the group."""
    found = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}".strip()
        found.append((path, command))
        found.extend(command_paths(command, path))
    return found


COMMANDS = command_paths(cli)


def test_the_cli_has_commands_to_document() -> None:
    assert {path for path, _ in COMMANDS} >= {"plugins", "providers", "config check", "doctor"}


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_cli_command_and_its_options_are_in_the_cli_page(
    path: str, command: click.Command
) -> None:
    text = read("cli.md")
    assert f"aicmo-gateway {path}" in text, f"docs/cli.md never mentions `aicmo-gateway {path}`"
    for param in command.params:
        for option in param.opts:
            if option.startswith("--"):
                assert option in text, f"docs/cli.md never mentions {path} {option}"


def test_the_global_options_are_in_the_cli_page() -> None:
    text = read("cli.md")
    for param in cli.params:
        for option in param.opts:
            assert f"`{option}`" in text, f"docs/cli.md never mentions {option}"


# -- capabilities ----------------------------------------------------------------


@pytest.mark.parametrize("page", ["configuration.md", "user-guide.md"])
@pytest.mark.parametrize("capability", sorted(PORTS))
def test_every_capability_is_in_the_configuration_and_user_guide(
    capability: str, page: str
) -> None:
    assert f"`{capability}`" in read(page), f"docs/{page} never mentions `{capability}`"


# -- built-in provider types -------------------------------------------------------

BUILTIN_TYPES = [
    pt for pt in Registry.discover(env={}).provider_types() if pt.distribution == CORE_DISTRIBUTION
]


def test_the_core_registers_builtin_types_to_document() -> None:
    assert {pt.name for pt in BUILTIN_TYPES} >= {"noop", "maildir", "sqlite"}


@pytest.mark.parametrize(
    "provider_type",
    [pt for pt in BUILTIN_TYPES if pt.settings is not None and attrs.has(pt.settings)],
    ids=lambda pt: f"{pt.port}-{pt.name}",
)
def test_every_builtin_setting_is_in_the_configuration_reference(provider_type) -> None:
    text = read("configuration.md")
    assert provider_type.settings is not None
    fields = [f.alias or f.name for f in attrs.fields(provider_type.settings) if f.init]
    for field in fields:
        assert f"`{field}`" in text, (
            f"docs/configuration.md never mentions `{field}` of {provider_type.port} "
            f"type {provider_type.name!r}"
        )
    # where a type has its own section, the setting is documented there
    heading = f"### `{provider_type.name}` ({provider_type.port})"
    if heading in text.splitlines():
        body = section(text, heading)
        missing = [f for f in fields if not re.search(rf"`{re.escape(f)}`", body)]
        assert not missing, f"'{heading}' does not document {missing}"
