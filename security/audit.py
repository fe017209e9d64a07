"""Check dependencies against security/advisories.toml, offline.

    python security/audit.py floors                 declared floors of the core and every plugin
    python security/audit.py pins FILE              versions pinned in a constraints file
    python security/audit.py installed              distributions installed in this interpreter

Each check prints one line per problem, naming the file, the requirement, the advisory and the
fix, and exits 1 if there is any. Needs only the standard library and ``packaging``.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
ADVISORIES = ROOT / "security" / "advisories.toml"
#: operators whose version is the lowest one a requirement admits
_FLOOR_OPERATORS = {">=", "==", "~=", "==="}


@dataclass(frozen=True)
class Advisory:
    id: str
    summary: str
    affected: SpecifierSet
    fixed: Version

    def affects(self, version: Version) -> bool:
        return self.affected.contains(version, prereleases=True)


@dataclass(frozen=True)
class Declared:
    """One requirement as written in a pyproject.toml."""

    source: str  # e.g. "plugins/smtp/pyproject.toml [project.dependencies]"
    requirement: Requirement

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)


def load_advisories(path: Path = ADVISORIES) -> dict[str, list[Advisory]]:
    """Distribution name (canonical) -> its advisories; a reviewed package may have none."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table: dict[str, list[Advisory]] = {}
    for name, entry in data.get("packages", {}).items():
        table[canonicalize_name(name)] = [
            Advisory(
                a["id"], a.get("summary", ""), SpecifierSet(a["affected"]), Version(a["fixed"])
            )
            for a in entry.get("advisories", [])
        ]
    return table


def _projects(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    paths = [root / "pyproject.toml", *sorted(root.glob("plugins/*/pyproject.toml"))]
    return [(p, tomllib.loads(p.read_text(encoding="utf-8"))["project"]) for p in paths]


def own_distributions(root: Path = ROOT) -> set[str]:
    """The distributions this repository builds (the core and each plugin)."""
    return {canonicalize_name(project["name"]) for _, project in _projects(root)}


def declared_requirements(root: Path = ROOT) -> list[Declared]:
    """Every requirement of the core and each plugin, extras included, except their own."""
    loaded = _projects(root)
    own = {canonicalize_name(project["name"]) for _, project in loaded}
    found: list[Declared] = []
    for path, project in loaded:
        where = path.relative_to(root).as_posix()
        groups = {"[project.dependencies]": project.get("dependencies", [])}
        for extra, reqs in project.get("optional-dependencies", {}).items():
            groups[f"[project.optional-dependencies] {extra}"] = reqs
        for group, reqs in groups.items():
            for text in reqs:
                requirement = Requirement(text)
                if canonicalize_name(requirement.name) not in own:
                    found.append(Declared(f"{where} {group}", requirement))
    return found


def lowest_admitted(requirement: Requirement) -> Version | None:
    """The lowest version a requirement admits (``>=X`` admits X); ``None`` without a floor."""
    floors = [
        Version(spec.version)
        for spec in requirement.specifier
        if spec.operator in _FLOOR_OPERATORS or spec.operator == ">"
    ]
    return max(floors) if floors else None


def safe_version(version: Version | None, advisories: Sequence[Advisory]) -> Version | None:
    """The lowest fixed version at or above ``version`` outside every advisory's range."""
    candidate = version
    while True:
        hits = [a for a in advisories if candidate is None or a.affects(candidate)]
        if not hits:
            return candidate
        candidate = max(a.fixed for a in hits)
        if version is not None and candidate <= version:
            return None  # an advisory without a fix above this version


def _hits(version: Version | None, advisories: Sequence[Advisory]) -> list[Advisory]:
    return [a for a in advisories if version is None or a.affects(version)]


def _describe(hits: Sequence[Advisory]) -> str:
    return "; ".join(f"{a.id} ({a.summary}; affects {a.affected})" for a in hits)


def check_floors(
    declared: Iterable[Declared], advisories: Mapping[str, Sequence[Advisory]]
) -> list[str]:
    """One message per declared requirement whose floor is vulnerable or unreviewed."""
    problems: list[str] = []
    for item in declared:
        req = item.requirement
        if item.name not in advisories:
            problems.append(
                f"{item.source}: {req} is not in security/advisories.toml; look "
                f"{req.name} up in the GitHub and PyPA advisory databases and add a "
                f"[packages.{item.name}] entry (with `advisories = []` if none is known)"
            )
            continue
        floor = lowest_admitted(req)
        hits = _hits(floor, advisories[item.name])
        if not hits:
            continue
        admits = f"admits {req.name} {floor}" if floor else "has no floor, so it admits any version"
        fix = safe_version(floor, advisories[item.name])
        action = (
            f"raise the floor to >={fix}"
            if fix
            else "no fixed release is known: drop the dependency or pin a patched fork"
        )
        problems.append(f"{item.source}: {req} {admits}, affected by {_describe(hits)}; {action}")
    return problems


def check_versions(
    versions: Mapping[str, str],
    advisories: Mapping[str, Sequence[Advisory]],
    origin: str,
) -> list[str]:
    """One message per pinned or installed version inside an advisory's range."""
    problems: list[str] = []
    for raw_name, raw_version in sorted(versions.items()):
        known = advisories.get(canonicalize_name(raw_name), ())
        try:
            version = Version(raw_version)
        except InvalidVersion:
            problems.append(f"{origin}: {raw_name} {raw_version!r} is not a PEP 440 version")
            continue
        hits = _hits(version, known)
        if not hits:
            continue
        fix = safe_version(version, known)
        action = f"upgrade to >={fix}" if fix else "no fixed release is known"
        problems.append(
            f"{origin}: {raw_name} {version} is affected by {_describe(hits)}; {action} "
            "(raise the floor in pyproject.toml if it admits this version, then `nox -s lock`)"
        )
    return problems


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a constraints file (comments and options skipped)."""
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text or text.startswith("-"):
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise SystemExit(f"{path}:{number}: {exc}") from None
        exact = [s for s in requirement.specifier if s.operator in {"==", "==="}]
        if len(exact) != 1:
            raise SystemExit(f"{path}:{number}: {text!r} is not pinned with ==")
        pins[requirement.name] = exact[0].version
    return pins


def installed_versions() -> dict[str, str]:
    return {dist.metadata["Name"]: dist.version for dist in metadata.distributions()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--advisories", type=Path, default=ADVISORIES)
    sub = parser.add_subparsers(dest="check", required=True)
    floors = sub.add_parser("floors", help="declared floors of the core and every plugin")
    floors.add_argument("--root", type=Path, default=ROOT)
    pins = sub.add_parser("pins", help="versions pinned in a constraints file")
    pins.add_argument("file", type=Path)
    sub.add_parser("installed", help="distributions installed in this interpreter")
    args = parser.parse_args(argv)
    advisories = load_advisories(args.advisories)
    count = sum(len(a) for a in advisories.values())
    if args.check == "floors":
        declared = declared_requirements(args.root)
        problems = check_floors(declared, advisories)
        checked = f"{len(declared)} declared requirements"
    else:
        versions = read_pins(args.file) if args.check == "pins" else installed_versions()
        origin = str(args.file) if args.check == "pins" else "installed"
        problems = check_versions(versions, advisories, origin)
        known = set(advisories) | own_distributions()
        unreviewed = sorted(n for n in versions if canonicalize_name(n) not in known)
        checked = f"{len(versions)} {'pinned' if args.check == 'pins' else 'installed'} versions"
        if unreviewed:
            print(
                "not in the advisory file (transitive; `nox -s audit -- --online` checks them): "
                + ", ".join(unreviewed)
            )
    for problem in problems:
        print(problem)
    verdict = f"{len(problems)} problem(s)" if problems else "no known advisory applies"
    print(f"checked {checked} against {count} advisories for {len(advisories)} packages: {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
