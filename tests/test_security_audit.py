"""The offline dependency audit (security/audit.py, run by ``nox -s audit``)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("security_audit", ROOT / "security" / "audit.py")
assert _spec is not None and _spec.loader is not None
audit = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = audit  # dataclasses look their module up
_spec.loader.exec_module(audit)

ADVISORIES = audit.load_advisories()


def project(root: Path, *dependencies: str, test: tuple[str, ...] = ()) -> Path:
    """A repository with one core pyproject.toml declaring these requirements."""
    deps = ", ".join(f'"{d}"' for d in dependencies)
    extras = ", ".join(f'"{d}"' for d in test)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [project]
            name = "aicmo-gateway"
            dependencies = [{deps}]
            [project.optional-dependencies]
            test = [{extras}]
            """
        ),
        encoding="utf-8",
    )
    return root


def floors(root: Path) -> list[str]:
    return audit.check_floors(audit.declared_requirements(root), ADVISORIES)


def test_a_floor_inside_an_advisory_range_names_the_advisories_and_the_floor_to_raise_to(
    tmp_path: Path,
) -> None:
    (problem,) = floors(project(tmp_path, "aiosmtplib>=3"))
    assert "pyproject.toml [project.dependencies]: aiosmtplib>=3 admits aiosmtplib 3" in problem
    assert "GHSA-v3q9-hj7j-63hq" in problem and "GHSA-vxj7-4xrp-5vr4" in problem
    assert problem.endswith("raise the floor to >=5.1.2")


def test_a_floor_at_the_fixed_release_passes(tmp_path: Path) -> None:
    assert floors(project(tmp_path, "aiosmtplib>=5.1.2", "attrs>=23.1")) == []


def test_the_floor_to_raise_to_clears_every_advisory_not_only_the_first(tmp_path: Path) -> None:
    # aiosmtpd: smuggling fixed in 1.4.5, STARTTLS injection only in 1.4.6
    (problem,) = floors(project(tmp_path, test=("aiosmtpd>=1.4.5",)))
    assert "[project.optional-dependencies] test" in problem
    assert "GHSA-wgjv-9j3q-jhg8" in problem and "GHSA-pr2m-px7j-xg65" not in problem
    assert problem.endswith("raise the floor to >=1.4.6")


def test_a_requirement_without_a_floor_on_a_package_with_advisories_fails(tmp_path: Path) -> None:
    (problem,) = floors(project(tmp_path, "aiosmtplib"))
    assert "has no floor, so it admits any version" in problem
    assert problem.endswith("raise the floor to >=5.1.2")


def test_an_upper_bound_does_not_hide_a_vulnerable_floor(tmp_path: Path) -> None:
    (problem,) = floors(project(tmp_path, "aiosmtplib>=4,<6"))
    assert "admits aiosmtplib 4" in problem


def test_a_dependency_missing_from_the_advisory_file_must_be_reviewed(tmp_path: Path) -> None:
    (problem,) = floors(project(tmp_path, "left-pad>=1"))
    assert "left-pad>=1 is not in security/advisories.toml" in problem
    assert "[packages.left-pad]" in problem


def test_the_repositorys_own_distributions_are_not_audited(tmp_path: Path) -> None:
    assert floors(project(tmp_path, "aicmo-gateway>=0.1")) == []


def test_every_floor_the_core_and_the_plugins_declare_is_outside_every_known_advisory() -> None:
    declared = audit.declared_requirements(ROOT)
    assert {d.name for d in declared} >= {"aiosmtplib", "imapclient", "pluggy", "pytest"}
    assert audit.check_floors(declared, ADVISORIES) == []


def test_a_pinned_vulnerable_version_fails_with_the_version_to_upgrade_to() -> None:
    (problem,) = audit.check_versions({"aiosmtplib": "5.0.0"}, ADVISORIES, "constraints")
    assert problem.startswith("constraints: aiosmtplib 5.0.0 is affected by GHSA-v3q9-hj7j-63hq")
    assert "upgrade to >=5.1.2" in problem


def test_versions_of_packages_without_advisories_pass() -> None:
    assert audit.check_versions({"aiosmtplib": "5.1.3", "unknown": "0.1"}, ADVISORIES, "x") == []


def test_the_locked_test_environment_is_outside_every_known_advisory() -> None:
    pins = audit.read_pins(ROOT / "constraints" / "test.txt")
    assert {"aiosmtplib", "aiosmtpd", "pytest"} <= {n.lower() for n in pins}
    assert audit.check_versions(pins, ADVISORIES, "constraints/test.txt") == []


def test_the_lock_covers_every_declared_dependency() -> None:
    pins = {canonicalize_name(n) for n in audit.read_pins(ROOT / "constraints" / "test.txt")}
    missing = {d.name for d in audit.declared_requirements(ROOT)} - pins
    assert not missing, f"constraints/test.txt pins none of {sorted(missing)}: run `nox -s lock`"


def test_an_unpinned_line_in_a_constraints_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("# header\nattrs==26.1.0\nclick>=8\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"c.txt:3: 'click>=8' is not pinned with =="):
        audit.read_pins(path)


def test_the_command_exits_1_and_prints_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert audit.main(["floors", "--root", str(project(tmp_path, "aiosmtplib>=3"))]) == 1
    out = capsys.readouterr().out
    assert "raise the floor to >=5.1.2" in out
    assert "1 problem(s)" in out
    assert audit.main(["floors", "--root", str(project(tmp_path, "aiosmtplib>=5.1.2"))]) == 0
    assert "no known advisory applies" in capsys.readouterr().out
