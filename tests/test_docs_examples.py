"""The Python examples in the README and the docs compile, and the full ones run as printed."""

from __future__ import annotations

import ast
import importlib.util
import mailbox
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "plugins").glob("*/README.md")),
]
_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)

#: built-in providers only, for every capability the examples call
CONFIG = """\
[capabilities.email_sending]
providers = ["outbox"]

[capabilities.crm_sync]
providers = ["crm"]

[providers.outbox]
type = "maildir"
path = "Maildir"

[providers.crm]
type = "sqlite"
path = "crm.db"
"""


def python_blocks(page: Path) -> list[tuple[str, str]]:
    """(``page:line``, code) for every ```python block of a Markdown page."""
    text = page.read_text(encoding="utf-8")
    return [
        (f"{page.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 2}", m.group(1))
        for m in _BLOCK.finditer(text)
    ]


BLOCKS = [block for page in PAGES for block in python_blocks(page)]
README_BLOCKS = [b for b in BLOCKS if b[0].startswith("README.md:")]


def _is_script(code: str) -> bool:
    try:
        compile(code, "<example>", "exec")
    except SyntaxError:
        return False
    return True


#: complete programs: they compile as scripts and open the config file a reader would write
RUNNABLE = [b for b in BLOCKS if _is_script(b[1]) and 'from_config("aicmo-gateway.toml")' in b[1]]


def test_there_are_examples_to_check():
    assert len(README_BLOCKS) >= 2 and len(BLOCKS) >= 30
    assert any(where.startswith("README.md") for where, _ in RUNNABLE)


@pytest.mark.parametrize(("where", "code"), README_BLOCKS, ids=[w for w, _ in README_BLOCKS])
def test_every_readme_example_is_a_script_that_compiles(where, code):
    compile(code, where, "exec")  # no top-level await: a reader saves it and runs it


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_every_docs_example_compiles(where, code):
    # guides show fragments from inside async code, so ``await`` may stand at the top level
    compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


_PLUGIN_IMPORT = re.compile(r"^\s*(?:import|from)\s+(aicmo_gateway_\w+)", re.MULTILINE)


def plugin_needed(code: str) -> str | None:
    """The plugin package an example imports that is not installed here, if any.

    The core's session installs no plugin; such an example is run by that plugin's own
    tests (``plugins/<name>/tests/test_docs_examples.py``), where the plugin is installed.
    """
    for package in _PLUGIN_IMPORT.findall(code):
        if importlib.util.find_spec(package) is None:
            return package
    return None


@pytest.mark.parametrize(("where", "code"), RUNNABLE, ids=[w for w, _ in RUNNABLE])
def test_every_full_example_runs_against_the_built_in_providers(where, code, tmp_path):
    package = plugin_needed(code)
    if package is not None:
        folder = ROOT / "plugins" / package.removeprefix("aicmo_gateway_")
        assert (folder / "tests" / "test_docs_examples.py").is_file(), (
            f"{where} needs {package}: add plugins/{folder.name}/tests/test_docs_examples.py "
            "running it, as the other plugins do"
        )
        pytest.skip(f"needs {package}: run by nox -s \"plugin_tests(plugin='{folder.name}')\"")
    result = run_example(code, tmp_path)
    assert result.returncode == 0, f"{where}:\n{result.stderr}"
    if "email_sending.send(" in code:
        assert len(mailbox.Maildir(tmp_path / "Maildir", create=False)) == 1


def run_example(code: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as ``example.py`` next to an ``aicmo-gateway.toml`` on built-in providers."""
    (folder / "aicmo-gateway.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "example.py").write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICMO_GATEWAY")}
    env["AICMO_GATEWAY_LOAD_PLUGINS"] = ""  # the built-in providers only
    return subprocess.run(
        [sys.executable, "example.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_readme_using_it_example_sends_through_the_chain_and_prints_the_outcome(tmp_path):
    code = next(code for _, code in README_BLOCKS if "asyncio.run(main())" in code)
    result = run_example(code, tmp_path)
    assert result.returncode == 0, result.stderr
    status, provider, attempt = result.stdout.splitlines()
    assert (status, provider) == ("ok", "outbox")
    assert attempt.startswith("outbox done None ")
    assert len(mailbox.Maildir(tmp_path / "Maildir", create=False)) == 1
