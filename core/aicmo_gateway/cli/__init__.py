"""The ``aicmo-gateway`` command line.

``main`` runs the click group (``cli``, in ``_root``), except for the plainest listing:
``aicmo-gateway plugins`` and ``aicmo-gateway plugins --json``, with no other argument, run
the same code without importing click, which is about a sixth of that command's time (any
other argument, ``--help`` included, goes through click; ``tests/test_cli.py`` checks that both
ways print the same).

Exit codes: 0 when all is well, 1 when problems were found, 2 for a usage error.
"""

from __future__ import annotations

import sys

from aicmo_gateway.lazy import attach

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from aicmo_gateway.cli._root import COMMANDS, LazyGroup, cli

__all__ = ["COMMANDS", "LazyGroup", "cli", "main"]

__getattr__, __dir__ = attach(
    __name__, {"aicmo_gateway.cli._root": ("COMMANDS", "LazyGroup", "cli")}
)

#: the argument lists ``main`` runs without click
PLAIN_LISTINGS = (["plugins"], ["plugins", "--json"])


def main() -> None:
    from aicmo_gateway.errors import PluginError
    from aicmo_gateway.plugins.switches import ENV_STRICT

    try:
        if sys.argv[1:] in PLAIN_LISTINGS:
            from aicmo_gateway.cli._listing import plugins_without_click

            plugins_without_click(as_json=sys.argv[1:] == ["plugins", "--json"])
        from aicmo_gateway.cli._root import run

        run()
    except PluginError as exc:  # AICMO_GATEWAY_STRICT_PLUGINS=1 turned a quarantine into this
        sys.stderr.write(f"error: {exc}\n")
        sys.stderr.write(
            f"unset {ENV_STRICT} to quarantine the plugin and carry on, or fix or uninstall it\n"
        )
        raise SystemExit(1) from None
