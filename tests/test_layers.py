"""The core's layers: no package imports from a layer above its own (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).parent.parent / "core" / "aicmo_gateway"

#: bottom to top; a unit may import from its own layer or any layer below
LAYERS: list[set[str]] = [
    {
        "lazy",
        "logs",
        "plugin_kit",
        "errors",
        "secret",
        "scrub",
        "config_values",
        "outcome",
        "ports",
    },  # records
    {"mime", "http"},  # shared ground for adapters
    {"plugins"},
    {"state"},
    {"engine"},
    {"config"},
    {
        "gateway",
        "live_checks",
        "backends",
        "facade",
        "sync",
        "suppression",
        "compliance",
        "unsubscribe",
        "feedback",
        "pipeline",
    },
    {"cli", "builtin", "testing", "__main__"},
]
LAYER_OF = {unit: level for level, units in enumerate(LAYERS) for unit in units}
#: ``from aicmo_gateway import X`` runs the package's ``__init__``, which imports the gateway
LAYER_OF["aicmo_gateway"] = LAYER_OF["gateway"]


def _unit(module: str) -> str:
    """``aicmo_gateway.engine.chain`` -> ``engine``; ``aicmo_gateway`` -> ``aicmo_gateway``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``aicmo_gateway`` module the file imports, lazy and type-only imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "aicmo_gateway":
                found.append((node.lineno, "aicmo_gateway"))
            elif node.module.startswith("aicmo_gateway."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name)
                for alias in node.names
                if alias.name.startswith("aicmo_gateway.")
            ]
    return found


MODULES = sorted(p for p in CORE.rglob("*.py") if p != CORE / "__init__.py")


def test_every_unit_of_the_core_has_a_layer():
    units = {p.relative_to(CORE).parts[0].removesuffix(".py") for p in MODULES}
    assert units <= set(LAYER_OF), f"give these a layer in LAYERS: {units - set(LAYER_OF)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_no_module_imports_from_a_layer_above_its_own(path: Path):
    own = path.relative_to(CORE).parts[0].removesuffix(".py")
    upward = []
    for line, module in _imports(path):
        target = _unit(module)
        if target in LAYER_OF and LAYER_OF[target] > LAYER_OF[own]:
            upward.append(f"line {line}: {module} (layer {target!r} is above {own!r})")
    assert not upward, "\n".join(upward)
