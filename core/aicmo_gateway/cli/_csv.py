"""Reading suppression entries from a CSV file (``aicmo-gateway suppression import``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.state.suppression import Entry, normalize, now

__all__ = ["read_entries"]

_TARGET = ("target", "address", "email", "e-mail", "domain")
_MAX_ROWS = 5_000_000


def _when(text: str, line: int) -> datetime:
    if not text:
        return now()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"line {line}: created_at {text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def read_entries(lines: Iterable[str], reason: str, source: str) -> list[Entry]:
    """The entries of CSV ``lines``: a header naming the columns, or one address per line."""
    rows = csv.reader(lines)
    first = next(rows, None)
    if first is None:
        return []
    names = [c.strip().lower() for c in first]
    column = next((names.index(n) for n in _TARGET if n in names), None)
    if column is None:  # no header: the first row is data, one address per row
        names, column, data = ["target"], 0, [first]
    else:
        data = []
    index = {name: i for i, name in enumerate(names)}
    entries: list[Entry] = []

    def cell(row: list[str], name: str) -> str:
        i = index.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    for line, row in enumerate([*data, *rows], start=1 if data else 2):
        if line > _MAX_ROWS:
            raise ValueError(f"more than {_MAX_ROWS} rows: split the file")
        if not row or not row[column].strip() or row[column].lstrip().startswith("#"):
            continue
        try:
            entries.append(
                Entry(
                    normalize(row[column]),
                    cell(row, "reason") or reason,
                    cell(row, "source") or source,
                    _when(cell(row, "created_at"), line),
                )
            )
        except InvalidInput as exc:
            raise ValueError(f"line {line}: {exc}") from None
    return entries
