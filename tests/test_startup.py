"""Start-up cost: what importing the package and starting the command line load.

Counted in modules, never timed: each case runs a fresh interpreter and reads
``sys.modules`` at the end (``benchmarks/startup.py`` measures the time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import aicmo_gateway
from aicmo_gateway.plugins.known import IN_REPOSITORY

#: loaded only when a call, a config or a log message needs them
HEAVY = (
    "asyncio",
    "loguru",
    "click",
    "pluggy",
    "importlib_metadata",
    "importlib.metadata",
    "aicmo_gateway.engine",
    "aicmo_gateway.config.build",
    "aicmo_gateway.config.load",
    "aicmo_gateway.gateway",
    "aicmo_gateway.mime",
)


def loaded_after(code: str, env: dict[str, str] | None = None) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; its ``sys.modules`` names and what it printed."""
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import json as _json, sys as _sys
        _sys.__stdout__.write("\\n@@" + _json.dumps(sorted(_sys.modules)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "AICMO_GATEWAY_CONFIG": "", **(env or {})},
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    output, _, modules = done.stdout.rpartition("\n@@")
    return {"modules": set(json.loads(modules)), "output": output}


def heavy_in(modules: object) -> list[str]:
    """Which of ``HEAVY`` (or a module inside one) were loaded."""
    assert isinstance(modules, set)
    return sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))


def plugin_packages_in(modules: object) -> list[str]:
    assert isinstance(modules, set)
    return sorted(m for m in modules if m.startswith("aicmo_gateway_"))


def test_importing_the_package_loads_nothing_heavy_and_no_plugin():
    run = loaded_after("import aicmo_gateway")
    assert heavy_in(run["modules"]) == []
    assert plugin_packages_in(run["modules"]) == []
    assert "aicmo_gateway.plugins.registry" not in run["modules"]


def test_every_public_name_is_importable_from_a_fresh_interpreter_and_listed_by_dir():
    names = aicmo_gateway.__all__
    run = loaded_after(
        f"""
        import aicmo_gateway
        names = {names!r}
        missing = [n for n in names if n not in dir(aicmo_gateway)]
        values = {{n: getattr(aicmo_gateway, n) for n in names}}
        from aicmo_gateway import Gateway, ProviderType, Secret, hookimpl, __version__
        assert values["Gateway"] is Gateway and values["Secret"] is Secret
        print(missing, type(__version__).__name__)
        """
    )
    assert run["output"].strip() == "[] str"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Gatewy'"):
        aicmo_gateway.Gatewy  # noqa: B018


def test_help_loads_no_command_implementation():
    run = loaded_after(
        """
        import sys
        from aicmo_gateway.cli import main
        sys.argv = ["aicmo-gateway", "--help"]
        try:
            main()
        except SystemExit:
            pass
        """
    )
    assert "Commands:" in run["output"]
    assert heavy_in(run["modules"]) == ["click"]
    assert plugin_packages_in(run["modules"]) == []


@pytest.fixture(scope="module")
def plugins_command() -> dict[str, object]:
    """``aicmo-gateway plugins`` with every in-repository plugin: its output and modules."""
    installed = [d for d in IN_REPOSITORY if d != "aicmo-gateway"]
    return loaded_after(
        """
        import sys
        from aicmo_gateway.cli import main
        sys.argv = ["aicmo-gateway", "plugins"]
        try:
            main()
        except SystemExit:
            pass
        """,
        env={"AICMO_GATEWAY_LOAD_PLUGINS": ",".join(installed)},
    )


def test_plugins_with_every_in_repository_plugin_loads_no_engine_no_asyncio_no_loguru(
    plugins_command: dict[str, object],
) -> None:
    assert "builtin" in plugins_command["output"]
    # plugin discovery, nothing else: ``plugins`` runs without click
    assert heavy_in(plugins_command["modules"]) == ["pluggy"]


def test_plugins_imports_no_settings_module_and_no_metadata_parser(
    plugins_command: dict[str, object],
) -> None:
    modules = plugins_command["modules"]
    assert isinstance(modules, set)
    # the hooks name their settings classes; the providers' modules stay unimported
    assert [m for m in modules if m.endswith(".settings")] == []
    assert [m for m in modules if m.startswith("aicmo_gateway.builtin.")] == [
        "aicmo_gateway.builtin.plugin"
    ]
    # entry points and headers are read without importlib.metadata, email, zipfile, packaging
    assert sorted(m for m in ("email.parser", "zipfile", "packaging") if m in modules) == []


def test_loguru_imported_after_the_package_finds_it_disabled_until_enabled():
    run = loaded_after(
        """
        import sys
        import aicmo_gateway
        from loguru import logger

        logger.remove()
        logger.add(sys.stdout, format="{name}: {message}")

        def log_from_the_package(text):
            exec("logger.warning(text)", {"__name__": "aicmo_gateway.probe", "logger": logger,
                                           "text": text})

        log_from_the_package("silent by default")
        logger.enable("aicmo_gateway")
        aicmo_gateway.Gateway  # importing the engine must not silence it again
        log_from_the_package("enabled")
        """
    )
    assert "silent by default" not in run["output"]
    assert "aicmo_gateway.probe: enabled" in run["output"]


def test_loguru_imported_before_the_package_is_silenced_at_import():
    run = loaded_after(
        """
        import sys
        from loguru import logger

        logger.remove()
        logger.add(sys.stdout, format="{name}: {message}")
        import aicmo_gateway

        exec("logger.warning('hidden')", {"__name__": "aicmo_gateway.probe", "logger": logger})
        """
    )
    assert "hidden" not in run["output"]
