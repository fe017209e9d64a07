"""Every first-party plugin's core floor names a core that ``nox -s plugin_floor`` can build.

A floor is the lowest core version a plugin declares (``aicmo-gateway>=0.1.1,<0.2``). The core
is not published, so the floor must be a version some commit of this repository's history
released (set in ``pyproject.toml``) or the repository's own version; anything else would leave
the floor untested (tools/core_floors.py).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("core_floors", ROOT / "tools" / "core_floors.py")
assert _spec is not None and _spec.loader is not None
core_floors = sys.modules.setdefault("core_floors", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(core_floors)


@pytest.fixture
def checkout() -> None:
    if (ROOT / ".git").exists() or os.environ.get("CI"):
        return
    pytest.skip("not a git checkout: the floors are commits of the repository's history")


@pytest.mark.usefixtures("checkout")
@pytest.mark.parametrize("plugin", core_floors.plugins())
def test_each_plugins_floor_is_a_released_core_or_the_repositorys_version(plugin: str) -> None:
    floor = core_floors.resolve(plugin)  # LookupError saying what to do otherwise
    if floor.commit is None:
        assert floor.version == core_floors.core_version()
    else:
        assert core_floors.version_at(floor.commit) == floor.version


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


def _commit_version(root: Path, version: str, core: str = "") -> None:
    project = f'[project]\nname = "aicmo-gateway"\nversion = "{version}"\n'
    (root / "pyproject.toml").write_text(project)
    (root / "core").mkdir(exist_ok=True)
    (root / "core" / "module.py").write_text(core)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", f"version {version}")


def _history(tmp_path: Path, requirement: str) -> Path:
    """A repository that released 0.1.0, 0.1.1 (core changed after), then 0.2.0."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    plugin = root / "plugins" / "acme"
    plugin.mkdir(parents=True)
    (plugin / "pyproject.toml").write_text(
        f'[project]\nname = "aicmo-gateway-acme"\ndependencies = ["{requirement}"]\n'
    )
    _commit_version(root, "0.1.0", "a = 1\n")
    _commit_version(root, "0.1.1", "a = 2\n")
    _commit_version(root, "0.1.1", "a = 3\n")  # a later change: 0.1.1 stays where it was set
    _commit_version(root, "0.2.0", "a = 4\n")
    return root


def _log(root: Path) -> list[str]:
    shown = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%H", "--reverse"],
        check=True,
        capture_output=True,
        text=True,
    )
    return shown.stdout.split()


def test_a_floor_is_the_commit_that_set_its_version(tmp_path: Path) -> None:
    root = _history(tmp_path, "aicmo-gateway>=0.1.1,<0.3")
    floor = core_floors.resolve("acme", root)
    assert floor.commit == _log(root)[1]
    assert not floor.is_repository  # the core changed twice since
    assert "built from" in floor.describe()


def test_a_release_whose_core_is_unchanged_is_the_repositorys_core(tmp_path: Path) -> None:
    root = _history(tmp_path, "aicmo-gateway>=0.2.0,<0.3")
    floor = core_floors.resolve("acme", root)
    assert floor.commit == _log(root)[-1]
    assert floor.is_repository


def test_a_floor_no_commit_released_says_how_to_fix_it(tmp_path: Path) -> None:
    root = _history(tmp_path, "aicmo-gateway>=0.1.5,<0.3")
    with pytest.raises(LookupError) as raised:
        core_floors.resolve("acme", root)
    message = str(raised.value)
    assert 'no commit of this repository\'s history sets version = "0.1.5"' in message
    assert "Raise the floor in plugins/acme/pyproject.toml" in message
    assert "or to 0.2.0" in message


def test_a_shallow_clone_is_told_to_fetch_the_history(tmp_path: Path) -> None:
    root = _history(tmp_path, "aicmo-gateway>=0.1.1,<0.3")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", f"file://{root}", str(shallow)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(LookupError, match="git fetch --unshallow"):
        core_floors.resolve("acme", shallow)


def _repository(tmp_path: Path, core: str, requirement: str) -> Path:
    core_project = f'[project]\nname = "aicmo-gateway"\nversion = "{core}"\n'
    (tmp_path / "pyproject.toml").write_text(core_project)
    plugin = tmp_path / "plugins" / "acme"
    plugin.mkdir(parents=True)
    (plugin / "pyproject.toml").write_text(
        f'[project]\nname = "aicmo-gateway-acme"\ndependencies = ["{requirement}", "attrs"]\n'
    )
    return tmp_path


def test_a_floor_equal_to_the_uncommitted_repository_version_is_the_repositorys_core(
    tmp_path: Path,
) -> None:
    floor = core_floors.resolve("acme", _repository(tmp_path, "0.2.0", "aicmo-gateway>=0.2.0"))
    assert floor.commit is None
    assert floor.is_repository
    assert "is the repository's version" in floor.describe()


@pytest.mark.parametrize(
    ("requirement", "floor"),
    [
        ("aicmo-gateway>=0.1.1,<0.2", "0.1.1"),
        ("aicmo-gateway[http]~=0.1.2", "0.1.2"),
        ("aicmo_gateway==0.3.*", "0.3"),
        ("Aicmo.Gateway>=0.1,>=0.1.3,<1", "0.1.3"),
    ],
)
def test_the_floor_is_the_highest_lower_bound(tmp_path: Path, requirement: str, floor: str) -> None:
    root = _repository(tmp_path, "9.9.9", requirement)
    assert core_floors.declared_floor(root / "plugins/acme/pyproject.toml") == Version(floor)


@pytest.mark.parametrize("requirement", ["aicmo-gateway<0.2", "aicmo-gateway>0.1"])
def test_a_requirement_without_a_floor_is_refused(tmp_path: Path, requirement: str) -> None:
    root = _repository(tmp_path, "0.1.1", requirement)
    with pytest.raises(ValueError, match="oldest core"):
        core_floors.declared_floor(root / "plugins/acme/pyproject.toml")
