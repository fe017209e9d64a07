"""Plain-text tables and JSON output of the command line (the ``--config`` option is in
``_options``, with ``pathlib``). Nothing here imports click before it writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A left-aligned text table; cells are converted with ``str``."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], max((len(line) for line in cell.splitlines()), default=0))

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def as_json(data: Any) -> str:
    """``data`` as the command line prints JSON: indented, keys sorted."""
    import json

    return json.dumps(data, indent=2, sort_keys=True, default=str)


def emit_json(data: Any, echo: Callable[[str], object] | None = None) -> None:
    """Print ``data`` as JSON with ``echo`` (default: ``click.echo``)."""
    if echo is None:
        import click

        echo = click.echo
    echo(as_json(data))
