"""``aicmo-gateway new-plugin``: a complete plugin distribution for one port, ready to test.

The rendered distribution has a provider talking to its service's JSON API through
:mod:`aicmo_gateway.http`, a fake of that API for its tests, the port's conformance suite
wired, a README with the configuration table and a noxfile. It passes its own tests, ruff and
``mypy --strict`` as rendered (``nox -s template`` checks every port).
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.plugins.template import files, ports
from aicmo_gateway.ports import PORTS

__all__ = ["NAME", "render_plugin"]

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def _core_range(version: str) -> str:
    """``>=0.1.1,<0.2`` for core 0.1.1: from the core the rendered code was written against
    (it may use anything that core has) to the next minor release."""
    parts = [int(p) for p in re.findall(r"\d+", version.split("+")[0])[:3]] + [0, 0, 0]
    major, minor, micro = parts[:3]
    return f">={major}.{minor}.{micro},<{major}.{minor + 1}"


def render_plugin(name: str, port: str, target: Path, *, core_version: str = "0.1.0") -> Path:
    """Write the distribution ``aicmo-gateway-<name>`` for ``port`` into ``target/<dist>``.

    Returns the distribution's folder. Refuses a bad name, an unknown port, or a folder that
    exists.
    """
    if not NAME.match(name) or len(name) > 40:
        raise InvalidInput(
            f"{name!r} is not a plugin name: use lower-case letters and digits, words joined by "
            "'-', starting with a letter (e.g. 'acme' or 'acme-crm')",
            field="name",
        )
    if port not in PORTS:
        raise InvalidInput(
            f"{port!r} is not a port; use one of {', '.join(sorted(PORTS))}", field="port"
        )
    module = name.replace("-", "_")
    if keyword.iskeyword(module):
        raise InvalidInput(f"{name!r} is a Python keyword; pick another name", field="name")
    values = {
        "name": name,
        "type": name,
        "dist": f"aicmo-gateway-{name}",
        "pkg": f"aicmo_gateway_{module}",
        "title": "".join(part.capitalize() for part in name.split("-")),
        "port": port,
        "hook": PORTS[port].hook,
        "core_range": _core_range(core_version),
    }
    spec = ports.SPECS[port]
    values["suite_std"] = ""
    values["provider_names"] = "QuotaExhausted, Secret"
    values.update(spec)
    names = ["ProviderType", "hookimpl"]
    if "Idempotency." in spec["traits"]:
        names.insert(0, "Idempotency")
    values["plugin_names"] = ", ".join(names)
    folder = target / values["dist"]
    if folder.exists():
        raise InvalidInput(f"{folder} exists; remove it or pick another folder", field="dir")
    for relative, text in files.files(values).items():
        path = folder / relative.format(**values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder
