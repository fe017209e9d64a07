"""The lowest core version each first-party plugin declares, and where to get that core.

A plugin declares the core versions it is made for in its ``dependencies``
(``aicmo-gateway>=0.1.1,<0.2``); the lower bound is its *floor*. The core is not published, so
a floor names a commit of this repository:

* ``core-v<version>`` (for instance ``core-v0.1.1``), the tag on the commit that released that
  core version (the commit that set ``version`` in ``pyproject.toml`` to it);
* or, while no such tag exists, the repository's own core when its ``version`` is the floor
  (a version still being written).

``nox -s plugin_floor`` builds the floor's core from the tag (``git archive``) and runs the
plugin's tests against it; ``tests/test_core_floors.py`` fails when a floor resolves to
neither. Run ``python tools/core_floors.py`` to see each plugin's floor and what it resolves to.

Imports only the standard library and ``packaging``, so both the noxfile and the tests use it.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CORE = "aicmo-gateway"
#: what ``git diff`` compares to tell whether a tag's core is the repository's core
CORE_PATHS = ("core", "pyproject.toml")


def tag_name(version: Version) -> str:
    """``core-v0.1.1`` for 0.1.1 (and for a floor written ``0.1.1.0``)."""
    release = (*version.release, 0, 0)[: max(3, len(version.release))]
    while len(release) > 3 and release[-1] == 0:
        release = release[:-1]
    text = ".".join(str(part) for part in release)
    if version.pre is not None:
        text += "".join(str(part) for part in version.pre)
    return f"core-v{text}"


def core_version(root: Path = ROOT) -> Version:
    """The version in the repository's ``pyproject.toml``."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return Version(project["version"])


def declared_floor(pyproject: Path) -> Version:
    """The lowest core version ``pyproject`` (a plugin's) allows.

    Raises ``ValueError`` when it names no core requirement or no lower bound.
    """
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    bounds: list[Version] = []
    found = False
    for line in project.get("dependencies", []):
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) != CORE:
            continue
        found = True
        for spec in requirement.specifier:
            if spec.operator in (">=", "==", "~=", "==="):
                bounds.append(Version(spec.version.removesuffix(".*")))
            elif spec.operator == ">":
                raise ValueError(
                    f"{pyproject}: write the core's floor as >= (the oldest core the plugin "
                    f"works with), not {spec}"
                )
    if not found:
        raise ValueError(f"{pyproject}: no {CORE} requirement in dependencies")
    if not bounds:
        raise ValueError(
            f"{pyproject}: the {CORE} requirement has no lower bound; declare the oldest core "
            "the plugin works with (>=X.Y.Z)"
        )
    return max(bounds)


def _git(*args: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )


def tag_exists(tag: str, root: Path = ROOT) -> bool:
    found = _git("rev-parse", "--quiet", "--verify", f"refs/tags/{tag}^{{commit}}", root=root)
    return found.returncode == 0


def same_core(tag: str, root: Path = ROOT) -> bool:
    """Whether the core at ``tag`` is the core in the working tree (nothing changed since)."""
    return _git("diff", "--quiet", tag, "--", *CORE_PATHS, root=root).returncode == 0


def tagged_version(tag: str, root: Path = ROOT) -> Version:
    """The ``version`` in ``pyproject.toml`` at ``tag``."""
    shown = _git("show", f"{tag}:pyproject.toml", root=root)
    return Version(tomllib.loads(shown.stdout)["project"]["version"])


@dataclass(frozen=True)
class Floor:
    """Where a plugin's floor comes from."""

    plugin: str
    version: Version
    #: the tag to build the floor's core from; ``None`` when the floor is the repository's core
    tag: str | None
    #: ``True`` when the floor's core is the repository's core (no tag, or nothing changed)
    is_repository: bool

    def describe(self) -> str:
        if self.tag is None:
            return (
                f"{self.plugin}: floor {self.version} is the repository's version, not yet "
                "tagged: the floor is the repository's core"
            )
        if self.is_repository:
            return (
                f"{self.plugin}: floor {self.version} is {self.tag}, whose core is the "
                "repository's core (unchanged since)"
            )
        return f"{self.plugin}: floor {self.version} is built from {self.tag}"


def resolve(plugin: str, root: Path = ROOT) -> Floor:
    """The floor of ``plugins/<plugin>``; ``LookupError`` saying what to do if there is none."""
    version = declared_floor(root / "plugins" / plugin / "pyproject.toml")
    tag = tag_name(version)
    if tag_exists(tag, root):
        return Floor(plugin, version, tag, same_core(tag, root))
    current = core_version(root)
    if version == current:
        return Floor(plugin, version, None, True)
    raise LookupError(
        f"plugins/{plugin} declares core {version} as its floor, but there is no tag {tag} "
        f"and the repository's core is {current}. Raise the floor in "
        f"plugins/{plugin}/pyproject.toml to a tagged version or to {current} (the oldest "
        "core the plugin's tests pass on), or tag the commit that released "
        f"{version}: git tag {tag} <commit>"
    )


def plugins(root: Path = ROOT) -> list[str]:
    return sorted(p.parent.name for p in (root / "plugins").glob("*/pyproject.toml"))


def main() -> int:
    failed = 0
    for plugin in plugins():
        try:
            print(resolve(plugin).describe())
        except (LookupError, ValueError) as exc:
            print(exc, file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
