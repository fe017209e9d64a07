"""The demo prints commands that run as printed, from a shell where no venv is activated."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

#: a PATH without this interpreter's scripts folder (what a shell without the venv has)
BARE_PATH = os.pathsep.join(
    p
    for p in os.environ.get("PATH", "").split(os.pathsep)
    if p and Path(p).resolve() != Path(sys.executable).parent.resolve()
)


def console_script(folder: Path) -> Path:
    """An ``aicmo-gateway`` script like the one pip installs into a venv's scripts folder."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "aicmo-gateway"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom aicmo_gateway.cli import main\nsys.exit(main())\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def run(command: list[str], path: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "AICMO_GATEWAY_CONFIG"}}
    env["PATH"] = path
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def printed_commands(output: str) -> dict[str, list[str]]:
    found = {}
    for line in output.splitlines():
        for label in ("Provider health: ", "One call's decisions: "):
            if line.startswith(label):
                found[label.split(":")[0]] = shlex.split(line[len(label) :])
    assert set(found) == {"Provider health", "One call's decisions"}, output
    return found


def assert_printed_commands_run(output: str, path: str, cwd: Path) -> dict[str, list[str]]:
    commands = printed_commands(output)
    status = run(commands["Provider health"], path, cwd)
    assert status.returncode == 0, status.stderr
    assert "broken_relay" in status.stdout and "outbox_maildir" in status.stdout
    explained = run(commands["One call's decisions"], path, cwd)
    assert explained.returncode == 0, explained.stderr
    assert "-> ok via outbox_maildir" in explained.stdout
    return commands


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX scripts and shell quoting")


def test_run_by_its_path_outside_the_venv_the_demo_prints_the_scripts_absolute_path(tmp_path):
    script = console_script(tmp_path / "venv bin")  # a space, so the path must be quoted
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    demo = run([str(script), "demo", "--dir", "demo"], BARE_PATH, tmp_path)
    assert demo.returncode == 0, demo.stderr
    # run from another folder: the printed paths are absolute
    commands = assert_printed_commands_run(demo.stdout, BARE_PATH, elsewhere)
    assert commands["Provider health"][0] == str(script)


def test_run_as_a_module_the_demo_prints_this_interpreter_with_dash_m(tmp_path):
    demo = run(
        [sys.executable, "-m", "aicmo_gateway", "demo", "--dir", "demo"], BARE_PATH, tmp_path
    )
    assert demo.returncode == 0, demo.stderr
    commands = assert_printed_commands_run(demo.stdout, BARE_PATH, tmp_path)
    assert commands["Provider health"][:3] == [sys.executable, "-m", "aicmo_gateway"]


def test_with_the_script_on_path_the_demo_prints_its_plain_name(tmp_path):
    script = console_script(tmp_path / "bin")
    path = os.pathsep.join([str(script.parent), BARE_PATH])
    demo = run(["aicmo-gateway", "demo", "--dir", "demo"], path, tmp_path)
    assert demo.returncode == 0, demo.stderr
    commands = assert_printed_commands_run(demo.stdout, path, tmp_path)
    assert commands["Provider health"][:2] == ["aicmo-gateway", "status"]
