"""``aicmo-gateway new-plugin``: the distribution it writes passes its own tests and ruff.

``nox -s template`` also installs each rendered distribution and runs ``mypy --strict``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aicmo_gateway.cli import cli
from aicmo_gateway.cli.new_plugin import _PORTS
from aicmo_gateway.plugins.registry import core_version
from aicmo_gateway.ports import PORTS

RUFF = Path(sys.executable).parent / "ruff"


def test_the_command_offers_every_port() -> None:
    assert sorted(_PORTS) == sorted(PORTS)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    target = tmp_path_factory.mktemp("plugins")
    folders = {}
    for port in sorted(PORTS):
        name = "demo-" + port.replace("_", "-")
        result = CliRunner().invoke(cli, ["new-plugin", name, "--port", port, "--dir", str(target)])
        assert result.exit_code == 0, result.output
        folders[port] = target / f"aicmo-gateway-{name}"
    return folders


@pytest.mark.parametrize("port", sorted(PORTS))
def test_the_rendered_plugin_passes_its_own_tests(rendered: dict[str, Path], port: str) -> None:
    folder = rendered[port]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), *(p for p in sys.path if p)])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed next to this Python")
@pytest.mark.parametrize("port", sorted(PORTS))
def test_the_rendered_plugin_is_ruff_clean(rendered: dict[str, Path], port: str) -> None:
    for command in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [str(RUFF), *command], cwd=rendered[port], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_bad_name_or_an_existing_folder_is_a_usage_error(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        cli, ["new-plugin", "Acme_CRM", "--port", "crm_sync", "--dir", str(tmp_path)]
    )
    assert bad.exit_code == 2
    assert "not a plugin name" in bad.output and "'acme-crm'" in bad.output
    assert list(tmp_path.iterdir()) == []
    first = runner.invoke(cli, ["new-plugin", "acme", "--port", "crm_sync", "--dir", str(tmp_path)])
    assert first.exit_code == 0
    again = runner.invoke(cli, ["new-plugin", "acme", "--port", "crm_sync", "--dir", str(tmp_path)])
    assert again.exit_code == 2
    assert "exists" in again.output


def test_the_rendered_pyproject_declares_the_entry_point_and_the_core_range(tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["new-plugin", "acme", "--port", "crm_sync", "--dir", str(tmp_path)])
    text = (tmp_path / "aicmo-gateway-acme" / "pyproject.toml").read_text()
    assert '[project.entry-points.aicmo_gateway]\nacme = "aicmo_gateway_acme.plugin"' in text
    # from the core it was rendered with (it may use all of it) to the next minor release
    major, minor, micro = (int(part) for part in core_version().split(".")[:3])
    assert f'"aicmo-gateway[http]>={major}.{minor}.{micro},<{major}.{minor + 1}"' in text


def test_the_template_session_covers_every_port() -> None:
    noxfile = (Path(__file__).resolve().parent.parent / "noxfile.py").read_text()
    listed = noxfile.split("PORTS = [", 1)[1].split("]", 1)[0]
    assert sorted(p.strip().strip('",') for p in listed.split() if p.strip()) == sorted(PORTS)
