"""Reading leads from a CSV file, one row at a time, each bad row reported with its line.

The file is streamed: memory stays bounded whatever its length. A row is bad when it has no
email, an email that is not an address, bytes that are not UTF-8, fewer or more cells than the
header, or when it repeats the header (two files pasted together); bad rows are reported and
skipped, never fatal. Only a header with no email column stops the run before it starts.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import IO

import attrs

from aicmo_gateway.config.pipeline import COLUMN_FIELDS
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Lead

__all__ = ["BadRow", "HeaderError", "LeadRow", "read_leads"]

#: other spellings of the lead fields in CSV headers (compared after normalising)
_ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "firstname": "first_name",
    "given_name": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "organization": "company",
    "organisation": "company",
    "company_name": "company",
    "job_title": "title",
    "linkedin": "linkedin_url",
    "url": "website",
}
_SEPARATORS = re.compile(r"[\s\-]+")
_MAX_CELL = 64 * 1024


def field_name(header: str) -> str:
    """``"First Name"`` -> ``first_name``: how a header is matched to a lead field."""
    key = _SEPARATORS.sub("_", header.strip().lower())
    return _ALIASES.get(key, key)


@attrs.frozen
class LeadRow:
    """A good row: its first line in the file, the lead, and every cell by field name."""

    line: int
    lead: Lead
    #: every column (lead fields under their own name, others under their normalised header)
    fields: Mapping[str, str]

    @property
    def email(self) -> str:
        assert self.lead.email is not None
        return self.lead.email


@attrs.frozen
class BadRow:
    line: int
    reason: str


class HeaderError(ValueError):
    """The header names no email column: no row can be read."""


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def _columns(header: list[str], mapping: Mapping[str, str]) -> list[str]:
    wanted = {field_name(h): f for f, h in mapping.items()}
    names = []
    for cell in header:
        key = field_name(cell)
        names.append(wanted.get(key, key))
    return names


def read_leads(path: Path, columns: Mapping[str, str] | None = None) -> Iterator[LeadRow | BadRow]:
    """Yield each data row of the CSV at ``path`` as a :class:`LeadRow` or a :class:`BadRow`.

    Raises :class:`HeaderError` when the first row has no email column, ``OSError`` when the
    file cannot be read.
    """
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        yield from _rows(handle, dict(columns or {}))


def _rows(handle: IO[str], mapping: dict[str, str]) -> Iterator[LeadRow | BadRow]:
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise HeaderError(f"line 1: the header cannot be read as CSV: {exc}") from None
    if header is None:
        return
    names = _columns(header, mapping)
    if "email" not in names:
        hint = (
            f'; map it in the config: [pipeline.columns] email = "{header[0].strip()}"'
            if header
            else ""
        )
        raise HeaderError(
            f"line 1: the header {', '.join(repr(h) for h in header)} has no email column "
            f"(expected one of: email, e-mail, email address){hint}"
        )
    width = len(header)
    at = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadRow(at, f"not readable as CSV: {exc}")
            at = reader.line_num + 1
            continue
        line, at = at, reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue
        found = _row(line, row, names, header, width)
        if found is not None:
            yield found


def _row(
    line: int, row: list[str], names: list[str], header: list[str], width: int
) -> LeadRow | BadRow | None:
    if row[0].lstrip().startswith("#"):
        return None
    if any(_has_bad_bytes(cell) for cell in row):
        return BadRow(line, "bytes that are not UTF-8: save the file as UTF-8")
    if [c.strip().lower() for c in row] == [h.strip().lower() for h in header]:
        return BadRow(line, "the header repeated (two files pasted together?)")
    if len(row) != width:
        what = "missing" if len(row) < width else "extra"
        return BadRow(line, f"{len(row)} cells where the header has {width} ({what} columns)")
    if any(len(cell) > _MAX_CELL for cell in row):
        return BadRow(line, f"a cell longer than {_MAX_CELL} characters")
    fields = {name: cell.strip() for name, cell in zip(names, row, strict=True)}
    email = fields.get("email", "")
    if not email:
        return BadRow(line, "no email address")
    known = {f: fields.get(f) or None for f in COLUMN_FIELDS if f in fields}
    try:
        lead = Lead(
            email=known.get("email"),
            first_name=known.get("first_name"),
            last_name=known.get("last_name"),
            company=known.get("company"),
            domain=known.get("domain"),
            linkedin_url=known.get("linkedin_url"),
        )
    except InvalidInput as exc:
        return BadRow(line, str(exc))
    return LeadRow(line, lead, MappingProxyType(fields))
