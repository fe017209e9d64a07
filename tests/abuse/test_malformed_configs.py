"""Malformed configs: each gets one clear problem naming the key and the fix, never a traceback
or a value from the environment, from ``config check`` and from ``Gateway.from_config`` alike.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aicmo_gateway import ConfigError, Gateway
from aicmo_gateway.cli import cli


def _cases() -> Any:
    """The case list, a module beside this one (the suite runs with --import-mode=importlib)."""
    name = "malformed_config_cases"
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_CASES = _cases()
ALL = _CASES.ALL
Case = _CASES.Case

#: the in-repository plugins (installed by ``nox -s abuse``), and no other
PLUGINS = {"AICMO_GATEWAY_LOAD_PLUGINS": "aicmo-gateway-smtp,aicmo-gateway-imap"}
TEXT_CASES = [case for case in ALL if not isinstance(case.source, dict)]
MAPPING_CASES = [case for case in ALL if isinstance(case.source, dict)]
SUBPROCESS_IDS = [
    "store-url-from-env",
    "attempt-timeout-zero",
    "array-500-deep",
    "not-utf-8",
    "smtp-preset-from-env",
    "hedge-delay-under-failover",
]


def test_there_are_at_least_80_malformed_configs() -> None:
    assert len(ALL) >= 80
    assert len({case.id for case in ALL}) == len(ALL)


def write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / "aicmo-gateway.toml"
    if isinstance(case.source, bytes):
        path.write_bytes(case.source)
    else:
        assert isinstance(case.source, str)
        path.write_text(case.source, encoding="utf-8", newline="\n")
    return path


def assert_clean(output: str, case: Case, source: str) -> None:
    """A problem naming the key with the fix, no traceback, nothing from the environment."""
    assert output.startswith(("1 configuration problem:", f"{len(problems(output, source))} ")), (
        output
    )
    assert "Traceback" not in output, output
    assert "SECRET" not in output, output
    assert len(output) < 20_000
    matching = [(key, rest) for key, rest in problems(output, source) if case.key in key]
    assert matching, f"no problem for {case.key}:\n{output}"
    assert any(case.fix in rest for _, rest in matching), output


def problems(output: str, source: str) -> list[tuple[str, str]]:
    """(key, message and fix) of each problem printed: "  - <source>: <key>: <message>"."""
    found = []
    for block in output.split("\n  - ")[1:]:
        assert block.startswith(f"{source}: "), block
        key, _, rest = block[len(source) + 2 :].partition(": ")
        assert "\n    fix: " in rest, block
        found.append((key, rest))
    return found


def matches(error: ConfigError, case: Case) -> bool:
    return any(
        case.key in p.key and case.fix in p.message + p.fix and p.fix for p in error.problems
    )


def _as_mapping(case: Case) -> dict[str, object] | None:
    """The case's table as a mapping; None when only a file can have its problem."""
    if isinstance(case.source, bytes):
        return None  # a mapping has no encoding
    try:
        return tomllib.loads(str(case.source))
    except (ValueError, RecursionError):  # not valid TOML (TOMLDecodeError is a ValueError)
        return None


#: an environment cannot hold NUL: those cases go through ``from_config(env=...)`` only
IN_A_REAL_ENVIRONMENT = [c for c in TEXT_CASES if not any("\x00" in v for v in c.env.values())]
#: the cases whose table also has a mapping form
AS_MAPPINGS = [(case, data) for case in TEXT_CASES if (data := _as_mapping(case)) is not None]


@pytest.mark.parametrize("case", IN_A_REAL_ENVIRONMENT, ids=lambda case: case.id)
def test_config_check_names_the_key_and_fix(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case)
    result = CliRunner().invoke(
        cli, ["config", "check", "--config", str(path)], env={**PLUGINS, **case.env}
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert_clean(result.output, case, str(path))


@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda case: case.id)
def test_from_config_raises_the_documented_config_error(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case)
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(path, env={**PLUGINS, **case.env})
    assert_clean(str(info.value), case, str(path))
    assert matches(info.value, case), str(info.value)


@pytest.mark.parametrize(("case", "data"), AS_MAPPINGS, ids=lambda item: getattr(item, "id", ""))
def test_the_same_table_as_a_mapping_gets_the_same_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case, data: dict[str, object]
) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths in settings are taken from the working folder
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(data, env={**PLUGINS, **case.env})
    assert_clean(str(info.value), case, "<mapping>")
    assert matches(info.value, case), str(info.value)


@pytest.mark.parametrize("case", MAPPING_CASES, ids=lambda case: case.id)
def test_a_malformed_mapping_raises_the_documented_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(case.source, env={**PLUGINS, **case.env})
    assert_clean(str(info.value), case, "<mapping>")
    assert matches(info.value, case), str(info.value)


@pytest.mark.parametrize(
    "case", [c for c in ALL if c.id in SUBPROCESS_IDS], ids=lambda case: case.id
)
def test_config_check_as_a_command(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case)
    env = {**os.environ, **PLUGINS, **case.env, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "aicmo_gateway.cli", "config", "check", "--config", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == ""
    assert_clean(done.stdout, case, str(path))
