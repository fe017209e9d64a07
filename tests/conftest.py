"""Shared fixtures: fake installed distributions and a log capture for loguru."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty site-packages-like folder on ``sys.path``."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


MakeDist = Callable[..., str]


@pytest.fixture
def make_dist(site: Path) -> MakeDist:
    """Write a fake installed distribution (``*.dist-info``) with one plugin module.

    Returns the module name, which is unique per call so imports never collide.
    """

    def make(
        name: str,
        source: str,
        *,
        version: str = "1.0",
        requires: tuple[str, ...] = (),
        entry_name: str | None = None,
    ) -> str:
        module = f"fake_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        metadata += [f"Requires-Dist: {req}" for req in requires]
        (dist_info / "METADATA").write_text("\n".join(metadata) + "\n", encoding="utf-8")
        (dist_info / "entry_points.txt").write_text(
            f"[aicmo_gateway]\n{entry_name or name} = {module}\n", encoding="utf-8"
        )
        return module

    return make
