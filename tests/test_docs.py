"""The documentation covers the contract: every hook, command, capability and built-in setting."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import attrs
import click
import pytest
from click.testing import CliRunner

from aicmo_gateway import errors as errors_module
from aicmo_gateway import ports as ports_module
from aicmo_gateway.cli import cli
from aicmo_gateway.config.outbox import OUTBOX_KEYS
from aicmo_gateway.config.pipeline import CONCURRENCY
from aicmo_gateway.config.tables import AUDIT_SIZE
from aicmo_gateway.config_values import MAX_SECONDS
from aicmo_gateway.engine.health._policy import RANGES as HEALTH_RANGES
from aicmo_gateway.engine.policy import CHAIN_RANGES, LIMIT_RANGES
from aicmo_gateway.plugins import hookspecs
from aicmo_gateway.plugins.provider_type import ProviderType
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
    """Every command and subcommand as ('config check', command), found by walking the group
    (through click's API: the root group imports its commands when they are looked up)."""
    found: list[tuple[str, click.Command]] = []
    if not isinstance(group, click.Group):
        return found
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
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


# -- the bad.toml example ------------------------------------------------------------------

BAD_TOML_COMMANDS = {
    "config check": ["config", "check", "--config", "bad.toml"],
    "doctor": ["doctor", "--config", "bad.toml"],
}


def bad_toml() -> str:
    text = read("configuration.md")
    start = text.index("```toml\n", text.index("A deliberately broken `bad.toml`")) + len(
        "```toml\n"
    )
    return text[start : text.index("```", start)]


def console_examples(page: str, command: str) -> list[tuple[dict[str, str], str, int]]:
    """Each ``$ aicmo-gateway <command> --config bad.toml`` of a page: the variables exported
    before it, the output shown and the exit code shown by ``echo $?``."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", read(page), re.S):
        if f"$ aicmo-gateway {command} --config bad.toml\n" not in block:
            continue
        env = dict(re.findall(r"^\$ export (\w+)=(.*)$", block, re.M))
        output = block.split(f"$ aicmo-gateway {command} --config bad.toml\n", 1)[1]
        shown, _, code = output.partition("$ echo $?\n")
        found.append((env, shown, int(code.strip())))
    return found


def run_on_bad_toml(tmp_path, monkeypatch, command: str, env: dict[str, str]):
    (tmp_path / "bad.toml").write_text(bad_toml(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    # as on the page: no plugin installed, only the core's built-in provider types
    return CliRunner().invoke(
        cli, BAD_TOML_COMMANDS[command], env={"AICMO_GATEWAY_LOAD_PLUGINS": "", **env}
    )


@pytest.mark.parametrize("page", ["configuration.md", "cli.md"])
def test_config_check_prints_what_the_pages_show_for_bad_toml(page, tmp_path, monkeypatch):
    [(env, shown, code)] = console_examples(page, "config check")
    result = run_on_bad_toml(tmp_path, monkeypatch, "config check", env)
    assert (result.output, result.exit_code) == (shown, code)


def test_doctor_shows_the_bad_toml_problems_as_the_cli_page_does(tmp_path, monkeypatch):
    [(_, shown, code)] = console_examples("cli.md", "doctor")
    env = console_examples("configuration.md", "config check")[0][0]
    result = run_on_bad_toml(tmp_path, monkeypatch, "doctor", env)

    def config_rows(output: str) -> list[list[str]]:
        return [
            re.split(r"\s{2,}", line.strip())
            for line in output.splitlines()
            if line.startswith("config ")
        ]

    assert result.exit_code == code
    assert config_rows(result.output) == config_rows(shown)
    assert config_rows(shown)


# -- the allowed range of every numeric key ------------------------------------------------


def _bound(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


RANGED_KEYS = [
    *((key, spec) for key, (spec, _) in CHAIN_RANGES.items()),
    *((key, spec) for key, spec in HEALTH_RANGES.items()),
    ("audit_size", AUDIT_SIZE),
    ("concurrency", CONCURRENCY),
    ("daily_quota", LIMIT_RANGES["quota"][0]),
    ("quotas", LIMIT_RANGES["quota"][0]),
    ("rate_limit", LIMIT_RANGES["rate_limit.per_second"][0]),
    *((key, spec) for key, (spec, _, _) in OUTBOX_KEYS.items()),
]


@pytest.mark.parametrize(("key", "spec"), RANGED_KEYS, ids=[key for key, _ in RANGED_KEYS])
def test_the_configuration_page_gives_the_range_of_every_numeric_key(key, spec):
    top, _, sub = key.partition(".")
    rows = [
        line for line in read("configuration.md").splitlines() if line.startswith(f"| `{top}` |")
    ]
    assert rows, f"no row for {top}"
    row = rows[0]
    if sub:
        row = row[row.index(f"`{sub}`") :]
    low = f"above {_bound(spec.low)}" if spec.above else _bound(spec.low)
    high = "7 days" if spec.high == MAX_SECONDS and "7 days" in row else _bound(spec.high)
    assert low in row and high in row, (key, spec.allowed(), row)
    if spec.off:
        assert '"off"' in row, row


# -- the author's references: ports, records, errors, traits, testing kit -------------------

PORT_RECORDS = sorted(
    name
    for name in ports_module.__all__
    if attrs.has(getattr(ports_module, name)) and name not in ("Operation", "PortSpec")
)


def test_there_are_records_to_document() -> None:
    assert len(PORT_RECORDS) >= 16, PORT_RECORDS


@pytest.mark.parametrize("capability", sorted(PORTS))
def test_every_port_has_a_section_in_the_port_reference(capability: str) -> None:
    text = read("plugins/ports.md")
    assert capability in headings(text, 2), f"docs/plugins/ports.md has no '## {capability}'"
    body = text.split(f"## {capability}\n", 1)[1].split("\n## ", 1)[0]
    spec = PORTS[capability]
    assert f"`{spec.hook}`" in body
    for op in spec.operations:
        assert f"`{op.name}(" in body, f"ports.md, {capability}: operation {op.name} missing"


@pytest.mark.parametrize("record", PORT_RECORDS)
def test_every_field_of_every_record_is_in_the_port_reference(record: str) -> None:
    text = read("plugins/ports.md")
    assert f"### {record}" in text.splitlines(), f"docs/plugins/ports.md has no '### {record}'"
    body = section(text, f"### {record}")
    for field in attrs.fields(getattr(ports_module, record)):
        assert f"| `{field.name}` |" in body, (
            f"docs/plugins/ports.md, {record}: no row for the field `{field.name}`"
        )


ERROR_CLASSES = sorted(errors_module.__all__)


@pytest.mark.parametrize("error", ERROR_CLASSES)
def test_every_error_class_has_an_entry_in_the_error_guide(error: str) -> None:
    assert error in headings(read("plugins/errors.md"), 3), (
        f"docs/plugins/errors.md has no '### {error}'; say when it is raised"
    )


def test_every_provider_type_trait_is_in_the_authoring_guide() -> None:
    body = read("plugins/authoring.md").split("## `ProviderType`\n", 1)[1].split("\n## ", 1)[0]
    for field in attrs.fields(ProviderType):  # the argument names (``_settings``: ``settings``)
        assert f"`{field.alias}`" in body, f"authoring.md's ProviderType table lacks {field.alias}"


def test_every_conformance_suite_and_kit_fixture_is_in_the_testing_page() -> None:
    from aicmo_gateway.testing import pytest_plugin
    from aicmo_gateway.testing.conformance import SUITES

    text = read("plugins/testing.md")
    for capability, suite in SUITES.items():
        assert f"| `{capability}` | `{suite.__name__}` |" in text
    for name in pytest_plugin.__all__:
        if name != "PluginKit":
            assert f"| `{name}` |" in text, f"docs/plugins/testing.md lacks the fixture {name}"
