"""Every first-party plugin's core floor names a core that ``nox -s plugin_floor`` can build.

A floor is the lowest core version a plugin declares (``aicmo-gateway>=0.1.1,<0.2``). The core
is not published, so the floor must be a tagged release of this repository (``core-v0.1.1``) or
the repository's own version; anything else would leave the floor untested (tools/core_floors.py).
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


def _tags() -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "tag", "--list", "core-v*"],
        capture_output=True,
        text=True,
        check=False,
    )
    return listed.stdout.split()


@pytest.fixture
def checkout() -> None:
    if (ROOT / ".git").exists() or os.environ.get("CI"):
        return
    pytest.skip("not a git checkout: the floors are tags of the repository's history")


@pytest.mark.usefixtures("checkout")
@pytest.mark.parametrize("plugin", core_floors.plugins())
def test_each_plugins_floor_is_a_tagged_core_or_the_repositorys_version(plugin: str) -> None:
    floor = core_floors.resolve(plugin)  # LookupError saying what to do otherwise
    if floor.tag is None:
        assert floor.version == core_floors.core_version()
    else:
        assert core_floors.tagged_version(floor.tag) == floor.version, (
            f"{floor.tag} is on a commit whose pyproject.toml has another version"
        )


@pytest.mark.usefixtures("checkout")
def test_each_core_tag_is_on_the_commit_that_set_its_version() -> None:
    for tag in _tags():
        assert core_floors.tagged_version(tag) == Version(tag.removeprefix("core-v")), tag


def _repository(tmp_path: Path, core: str, requirement: str) -> Path:
    core_project = f'[project]\nname = "aicmo-gateway"\nversion = "{core}"\n'
    (tmp_path / "pyproject.toml").write_text(core_project)
    plugin = tmp_path / "plugins" / "acme"
    plugin.mkdir(parents=True)
    (plugin / "pyproject.toml").write_text(
        f'[project]\nname = "aicmo-gateway-acme"\ndependencies = ["{requirement}", "attrs"]\n'
    )
    return tmp_path


def test_an_untagged_floor_below_the_repositorys_version_says_how_to_fix_it(tmp_path: Path) -> None:
    root = _repository(tmp_path, "0.1.1", "aicmo-gateway[http]>=0.1,<0.2")
    with pytest.raises(LookupError) as raised:
        core_floors.resolve("acme", root)
    message = str(raised.value)
    assert "no tag core-v0.1.0" in message
    assert "Raise the floor in plugins/acme/pyproject.toml" in message
    assert "git tag core-v0.1.0 <commit>" in message


def test_a_floor_equal_to_the_untagged_repository_version_is_the_repositorys_core(
    tmp_path: Path,
) -> None:
    floor = core_floors.resolve("acme", _repository(tmp_path, "0.2.0", "aicmo-gateway>=0.2.0"))
    assert floor.tag is None
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


def test_tag_names_have_three_release_numbers() -> None:
    assert core_floors.tag_name(Version("0.1")) == "core-v0.1.0"
    assert core_floors.tag_name(Version("0.1.1.0")) == "core-v0.1.1"
    assert core_floors.tag_name(Version("1.2.3rc1")) == "core-v1.2.3rc1"
