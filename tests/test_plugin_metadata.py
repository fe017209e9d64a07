"""Reading installed distributions for discovery: the same plugins importlib.metadata finds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from aicmo_gateway.plugins import metadata
from aicmo_gateway.plugins.registry import PluginStatus, Registry

PLUGIN = """
from aicmo_gateway import ProviderType, hookimpl

@hookimpl
def aicmo_email_senders():
    return [ProviderType(name="{name}", factory=lambda **kw: None, summary="test")]
"""


def _dist_info(folder: Path, name: str, version: str, entry_points: str, **files: str) -> Path:
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    for filename, text in files.items():
        (info / filename.replace("_", ".")).write_text(text, encoding="utf-8")
    return info


def test_only_the_group_s_entry_points_are_read_and_comments_are_skipped(tmp_path):
    _dist_info(
        tmp_path,
        "acme",
        "1.0",
        "[console_scripts]\nacme = acme.cli:main\n\n# a comment\n[aicmo_gateway]\n"
        "; another\nacme = acme.plugin\nextra = acme.more:hooks [fast]\n",
    )
    (dist,) = metadata.distributions([str(tmp_path)])
    found = [(ep.name, ep.value) for ep in dist.entry_points("aicmo_gateway")]
    assert found == [("acme", "acme.plugin"), ("extra", "acme.more:hooks [fast]")]


def test_the_headers_stop_at_the_description_and_folded_lines_are_joined(tmp_path):
    info = _dist_info(tmp_path, "acme", "1.0", "")
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme\nVersion: 2.0\nLicense: MIT\n  and more\n"
        "Requires-Dist: aicmo-gateway>=0.1\nRequires-Dist: httpx\n\n"
        "Name: not a header\nRequires-Dist: nor this\n",
        encoding="utf-8",
    )
    (dist,) = metadata.distributions([str(tmp_path)])
    assert dist.header("Name") == "acme"
    assert dist.header("version") == "2.0"
    assert dist.header("License") == "MIT and more"
    assert dist.requires() == ("aicmo-gateway>=0.1", "httpx")


def test_the_first_distribution_of_a_name_on_the_path_wins(tmp_path):
    _dist_info(tmp_path / "first", "Acme.Mail", "2.0", "[aicmo_gateway]\na = first\n")
    _dist_info(tmp_path / "second", "acme-mail", "1.0", "[aicmo_gateway]\na = second\n")
    dists = metadata.distributions([str(tmp_path / "first"), str(tmp_path / "second")])
    assert [d.header("Version") for d in dists] == ["2.0"]


def test_an_egg_info_s_requirements_come_from_requires_txt(tmp_path):
    info = tmp_path / "acme.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 1.2\nName: acme\nVersion: 1.0\n")
    (info / "requires.txt").write_text("aicmo-gateway>=99\n\n[extra]\nhttpx\n")
    (dist,) = metadata.distributions([str(tmp_path)])
    assert dist.requires() == ("aicmo-gateway>=99", 'httpx; extra == "extra"')


def test_an_entry_point_loads_the_attribute_it_names():
    assert metadata.EntryPoint("x", "os.path:join", "g").load() is __import__("os").path.join
    with pytest.raises(ValueError, match="names no module"):
        metadata.EntryPoint("x", "not a module!", "g").load()


def test_a_plugin_in_a_zip_archive_on_the_path_is_found_through_importlib(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_acme.py", PLUGIN.format(name="zipped"))
        z.writestr("zipped_acme-1.5.dist-info/METADATA", "Name: zipped-acme\nVersion: 1.5\n")
        z.writestr(
            "zipped_acme-1.5.dist-info/entry_points.txt", "[aicmo_gateway]\nz = zipped_acme\n"
        )
    monkeypatch.syspath_prepend(str(archive))
    registry = Registry.discover(path=[str(archive)], env={})
    (info,) = [p for p in registry.plugins if p.name == "z"]
    assert (info.status, info.distribution, info.version) == (
        PluginStatus.ACTIVE,
        "zipped-acme",
        "1.5",
    )
    assert registry.get("email_sending", "zipped").distribution == "zipped-acme"
