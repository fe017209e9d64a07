"""The full Python examples that use this plugin, in its README and the docs, run as printed.

The core's docs test leaves them to this session, where the plugin and its libraries are
installed; each runs as ``example.py`` next to an ``aicmo-gateway.toml`` on built-in providers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "plugins" / "prometheus" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
CONFIG = """\
[capabilities.email_sending]
providers = ["outbox"]

[providers.outbox]
type = "maildir"
path = "Maildir"
"""

EXAMPLES = [
    (f"{page.relative_to(ROOT)}:{page.read_text()[: m.start()].count(chr(10)) + 2}", m.group(1))
    for page in PAGES
    for m in _BLOCK.finditer(page.read_text(encoding="utf-8"))
    if "import aicmo_gateway_prometheus" in m.group(1)
    and 'from_config("aicmo-gateway.toml")' in m.group(1)
]


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_the_example_runs(where: str, code: str, tmp_path: Path) -> None:
    (tmp_path / "aicmo-gateway.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICMO_GATEWAY")}
    result = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{where}:\n{result.stderr}"
