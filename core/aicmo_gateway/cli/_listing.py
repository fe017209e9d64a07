"""``aicmo-gateway plugins`` written without click, so ``main`` can run it without importing it.

``plugins_report`` prints through the ``echo`` it is given: ``click.echo`` under the click
command (``listing.plugins``), a plain write to standard output when ``main`` runs it for
``aicmo-gateway plugins [--json]`` (:func:`plugins_without_click`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from aicmo_gateway.cli._output import emit_json, table

__all__ = ["plugins_report", "plugins_without_click"]


def plugins_report(as_json: bool, echo: Callable[[str], object]) -> int:
    """Print the installed plugins; the exit code: 1 when a plugin is quarantined or has a
    warning, or a plugin switch names nothing installed, else 0."""
    from aicmo_gateway.plugins.registry import Registry

    registry = Registry.discover()
    if as_json:
        emit_json(
            {"plugins": [p.to_json() for p in registry.plugins], "problems": registry.problems},
            echo,
        )
    else:
        rows = []
        for info in registry.plugins:
            types = "; ".join(
                f"{port}: {', '.join(names)}"
                for port, names in info.to_json()["provider_types"].items()
            )
            rows.append(
                [info.name, info.distribution, info.version, info.status.value, types or "-"]
            )
        echo(table(["plugin", "distribution", "version", "status", "provider types"], rows))
        for info in registry.plugins:
            if info.reason:
                echo(f"\n{info.name} ({info.distribution}) is {info.status.value}: {info.reason}")
            for warning in info.warnings:
                echo(f"\nwarning: {info.name} ({info.distribution}): {warning}")
        for problem in registry.problems:
            echo(f"\nwarning: {problem}")
    if registry.quarantined or registry.problems or any(p.warnings for p in registry.plugins):
        return 1
    return 0


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def plugins_without_click(as_json: bool) -> None:
    """``aicmo-gateway plugins [--json]`` as the click group runs it (the group's logging on
    standard error, then the command), without click; always raises ``SystemExit``."""
    from aicmo_gateway.cli._logging import configure_logging, restore_logging, verbosity

    configure_logging(verbosity(0))
    try:
        code = plugins_report(as_json, _write)
    except BrokenPipeError:  # the reader went away (``| head``): as click does, exit 1 quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(1) from None
    finally:
        restore_logging()
    raise SystemExit(code)
