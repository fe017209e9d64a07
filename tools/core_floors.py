"""The lowest core version each first-party plugin declares, and where to get that core.

A plugin declares the core versions it is made for in its ``dependencies``
(``aicmo-gateway>=0.1.1,<0.2``); the lower bound is its *floor*. The core is not published, so
a floor names a commit of this repository's history:

* the *release commit* of that version: the oldest commit whose ``pyproject.toml`` has it as
  ``version`` (the commit that raised the version to it). It is found in the history itself, so
  a fresh clone of ``main`` resolves it with nothing else fetched (no tags to push);
* or, when no commit released it yet, the repository's own core, if its ``version`` is the
  floor (a version still being written).

``nox -s plugin_floor`` builds the floor's core from the release commit (``git archive``) and
runs the plugin's tests against it; ``tests/test_core_floors.py`` fails when a floor resolves
to neither. Run ``python tools/core_floors.py`` to see each plugin's floor and what it
resolves to.

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
#: what ``git diff`` compares to tell whether a release's core is the repository's core
CORE_PATHS = ("core", "pyproject.toml")


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


def is_shallow(root: Path = ROOT) -> bool:
    shallow = _git("rev-parse", "--is-shallow-repository", root=root)
    return shallow.stdout.strip() == "true"


def version_at(commit: str, root: Path = ROOT) -> Version | None:
    """The core ``version`` in ``pyproject.toml`` at ``commit``; ``None`` if it has none."""
    shown = _git("show", f"{commit}:pyproject.toml", root=root)
    if shown.returncode != 0:
        return None
    try:
        return Version(tomllib.loads(shown.stdout)["project"]["version"])
    except (tomllib.TOMLDecodeError, KeyError, ValueError):
        return None


def release_commit(version: Version, root: Path = ROOT) -> str | None:
    """The oldest commit whose ``pyproject.toml`` sets the core ``version`` to ``version``."""
    changed = _git(
        "log", "--format=%H", "--reverse", "-G", "^version *=", "--", "pyproject.toml", root=root
    )
    for commit in changed.stdout.split():
        if version_at(commit, root) == version:
            return commit
    return None


def same_core(commit: str, root: Path = ROOT) -> bool:
    """Whether the core at ``commit`` is the core in the working tree (nothing changed since)."""
    return _git("diff", "--quiet", commit, "--", *CORE_PATHS, root=root).returncode == 0


@dataclass(frozen=True)
class Floor:
    """Where a plugin's floor comes from."""

    plugin: str
    version: Version
    #: the release commit to build the floor's core from; ``None`` when the floor is the
    #: repository's own, not yet committed, version
    commit: str | None
    #: ``True`` when the floor's core is the repository's core (unreleased, or nothing changed)
    is_repository: bool

    def describe(self) -> str:
        if self.commit is None:
            return (
                f"{self.plugin}: floor {self.version} is the repository's version, not yet "
                "committed: the floor is the repository's core"
            )
        if self.is_repository:
            return (
                f"{self.plugin}: floor {self.version} was released by {self.commit[:10]}, whose "
                "core is the repository's core (unchanged since)"
            )
        return f"{self.plugin}: floor {self.version} is built from {self.commit[:10]}"


def resolve(plugin: str, root: Path = ROOT) -> Floor:
    """The floor of ``plugins/<plugin>``; ``LookupError`` saying what to do if there is none."""
    version = declared_floor(root / "plugins" / plugin / "pyproject.toml")
    commit = release_commit(version, root)
    if commit is not None:
        return Floor(plugin, version, commit, same_core(commit, root))
    current = core_version(root)
    if version == current:
        return Floor(plugin, version, None, True)
    if is_shallow(root):
        raise LookupError(
            f"plugins/{plugin} declares core {version} as its floor, and this clone is shallow: "
            "the commit that released it is not here. Fetch the whole history "
            "(git fetch --unshallow) and run again."
        )
    raise LookupError(
        f"plugins/{plugin} declares core {version} as its floor, but no commit of this "
        f'repository\'s history sets version = "{version}" in pyproject.toml, and the '
        f"repository's core is {current}. Raise the floor in plugins/{plugin}/pyproject.toml to "
        f"a released version or to {current} (the oldest core the plugin's tests pass on)."
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
