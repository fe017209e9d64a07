"""The files of a rendered plugin; ``<<key>>`` marks a value (see ``render_plugin``).

Their texts live in ``project`` (the distribution's own files), ``package`` (the plugin
package) and ``suite`` (its tests).
"""

from __future__ import annotations

import re

from aicmo_gateway.plugins.template.package import INIT, PLUGIN, PROVIDER, SETTINGS
from aicmo_gateway.plugins.template.project import NOXFILE, PYPROJECT, README
from aicmo_gateway.plugins.template.suite import CONFTEST, TEST_CONFORMANCE, TEST_PLUGIN

__all__ = ["files"]

_FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "noxfile.py": NOXFILE,
    "{pkg}/__init__.py": INIT,
    "{pkg}/py.typed": "",
    "{pkg}/plugin.py": PLUGIN,
    "{pkg}/settings.py": SETTINGS,
    "{pkg}/provider.py": PROVIDER,
    "tests/__init__.py": "",
    "tests/conftest.py": CONFTEST,
    "tests/test_conformance.py": TEST_CONFORMANCE,
    "tests/test_plugin.py": TEST_PLUGIN,
}

_KEY = re.compile(r"<<(\w+)>>")


def files(values: dict[str, str]) -> dict[str, str]:
    """Every file's path (with ``{pkg}``) and its text."""
    return {path: _KEY.sub(lambda m: values[m.group(1)], text) for path, text in _FILES.items()}
