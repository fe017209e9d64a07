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


#: the subcommands the demo prints for the reader
SUBCOMMANDS = {"status", "outbox", "explain", "pipeline"}


def printed_commands(output: str) -> list[list[str]]:
    """Every command the demo printed for the reader (its lines starting with ``  $ ``)."""
    commands = [shlex.split(line[4:]) for line in output.splitlines() if line.startswith("  $ ")]
    assert len(commands) >= 4, output
    return commands


def assert_printed_commands_run(output: str, path: str, cwd: Path) -> list[list[str]]:
    """Run every printed command as printed: each exits 0; the main ones show the run."""
    commands = printed_commands(output)
    shown: dict[str, str] = {}  # the first output of each subcommand
    for command in commands:
        done = run(command, path, cwd)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        subcommand = next(word for word in command if word in SUBCOMMANDS)
        shown.setdefault(subcommand, done.stdout)
    status, outbox, explained = shown["status"], shown["outbox"], shown["explain"]
    assert "relay" in status and "backup" in status
    assert "email_sending.send" in outbox and " done " in outbox
    assert "-> deferred" in explained and "stored in the outbox as row 1" in explained
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
    assert {command[0] for command in commands} == {str(script)}


def test_run_as_a_module_the_demo_prints_this_interpreter_with_dash_m(tmp_path):
    demo = run(
        [sys.executable, "-m", "aicmo_gateway", "demo", "--dir", "demo"], BARE_PATH, tmp_path
    )
    assert demo.returncode == 0, demo.stderr
    commands = assert_printed_commands_run(demo.stdout, BARE_PATH, tmp_path)
    assert {tuple(command[:3]) for command in commands} == {(sys.executable, "-m", "aicmo_gateway")}


def test_with_the_script_on_path_the_demo_prints_its_plain_name(tmp_path):
    script = console_script(tmp_path / "bin")
    path = os.pathsep.join([str(script.parent), BARE_PATH])
    demo = run(["aicmo-gateway", "demo", "--dir", "demo"], path, tmp_path)
    assert demo.returncode == 0, demo.stderr
    commands = assert_printed_commands_run(demo.stdout, path, tmp_path)
    assert {command[0] for command in commands} == {"aicmo-gateway"}
