"""Installed distributions' entry points and metadata headers, read the cheap way.

Discovery needs little from each installed distribution: its entry points in one group,
and, for the few that are plugins, three headers (``Name``, ``Version``,
``Requires-Dist``). ``importlib.metadata`` (and its backport) answer that through
``zipfile``, ``email``, ``csv`` and ``pathlib``, which cost more to import than the search
itself. This module reads the same files directly: each ``*.dist-info`` and ``*.egg-info``
folder of each directory on the search path, in the path's order, the first distribution
of a name winning, as ``importlib.metadata.entry_points()`` does.

Where the search path holds something this reader does not know (a zip archive, or an
import hook on ``sys.meta_path`` that finds distributions of its own), it answers through
``importlib.metadata`` instead, so every installation it cannot read is still found.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["Distribution", "EntryPoint", "distributions", "find"]

#: ``module``, ``module:attr`` or ``module:attr.attr``, with optional ``[extras]``
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
_SEPARATORS = re.compile(r"[-_.]+")
#: the finders of the standard library and of the importlib-metadata backport, whose
#: ``find_distributions`` this module stands in for
_PATH_FINDERS = {
    "_frozen_importlib_external",
    "importlib._bootstrap_external",
    "importlib_metadata",
}


def _key(name: str) -> str:
    """A distribution name as importlib.metadata normalizes it: ``Acme.Mail``: ``acme_mail``."""
    return _SEPARATORS.sub("_", name).lower()


class EntryPoint:
    """One entry point: ``name = value`` in ``group``; :meth:`load` imports what it names."""

    __slots__ = ("group", "name", "value")

    def __init__(self, name: str, value: str, group: str) -> None:
        self.name = name
        self.value = value
        self.group = group

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"

    def load(self) -> Any:
        """The module, or the attribute of it, that the value names (as importlib loads it)."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point {self.name!r}: {self.value!r} names no module")
        found: Any = importlib.import_module(match["module"])
        for part in (match["attr"] or "").split("."):
            if part:
                found = getattr(found, part)
        return found


class Distribution:
    """One installed distribution: its files, read on demand."""

    __slots__ = ("_headers", "_origin", "folder", "key")

    def __init__(self, key: str, folder: str | None, origin: Any = None) -> None:
        #: the normalized name (``aicmo_gateway``) the search de-duplicates on
        self.key = key
        #: the ``*.dist-info`` (or ``*.egg-info``) folder, when this module found it
        self.folder = folder
        self._origin = origin  # the importlib.metadata Distribution, when it found this one
        self._headers: dict[str, list[str]] | None = None

    def __repr__(self) -> str:
        return f"Distribution({self.key!r}, {self.folder or self._origin!r})"

    def read_text(self, filename: str) -> str | None:
        """The text of one of the distribution's metadata files, or None."""
        if self._origin is not None:
            text: str | None = self._origin.read_text(filename)
            return text
        assert self.folder is not None
        try:
            with open(
                os.path.join(self.folder, filename), encoding="utf-8", errors="replace"
            ) as file:
                return file.read()
        except OSError:
            return None

    def entry_points(self, group: str) -> list[EntryPoint]:
        """The entry points of ``group`` in ``entry_points.txt`` (an INI file)."""
        text = self.read_text("entry_points.txt")
        if not text:
            return []
        found, section = [], None
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
            elif section == group:
                name, sep, value = line.partition("=")
                if sep:
                    found.append(EntryPoint(name.strip(), value.strip(), group))
        return found

    def headers(self) -> dict[str, list[str]]:
        """The metadata's headers (``METADATA`` or ``PKG-INFO``), lower-cased names to values;
        the description after them is not parsed."""
        if self._headers is None:
            text = self.read_text("METADATA") or self.read_text("PKG-INFO") or ""
            headers: dict[str, list[str]] = {}
            last: list[str] | None = None
            for line in text.split("\n"):
                if not line.strip():
                    break  # the headers end at the first empty line
                if line[0] in " \t" and last:  # a folded header goes on
                    last[-1] += " " + line.strip()
                    continue
                name, sep, value = line.partition(":")
                if sep:
                    last = headers.setdefault(name.strip().lower(), [])
                    last.append(value.strip())
            self._headers = headers
        return self._headers

    def header(self, name: str) -> str | None:
        values = self.headers().get(name.lower())
        return values[0] if values else None

    def requires(self) -> tuple[str, ...]:
        """``Requires-Dist`` lines; an egg-info's ``requires.txt`` through importlib.metadata."""
        lines = self.headers().get("requires-dist")
        if lines is not None:
            return tuple(lines)
        origin = self._origin
        if origin is None:
            if self.read_text("requires.txt") is None:
                return ()
            import importlib.metadata
            import pathlib

            assert self.folder is not None
            origin = importlib.metadata.PathDistribution(pathlib.Path(self.folder))
        return tuple(origin.requires or ())


def _in_folder(entry: str, key: str | None = None) -> Iterator[Distribution]:
    """The distributions of one directory on the path (only ``key``'s, when given), as
    importlib.metadata finds them."""
    root = entry or "."
    try:
        names = os.listdir(root)
    except OSError:
        return
    for child in names:
        low = child.lower()
        if low.endswith((".dist-info", ".egg-info")):
            found = _key(low.rpartition(".")[0].partition("-")[0])
            folder = os.path.join(root, child)
            if (key is None or found == key) and os.path.isdir(folder):
                yield Distribution(found, folder)
    if os.path.basename(root).lower().endswith(".egg") and "EGG-INFO" in names:
        found = _key(os.path.basename(root).partition("-")[0])
        if key is None or found == key:
            yield Distribution(found, os.path.join(root, "EGG-INFO"))


def _readable(path: Sequence[str]) -> bool:
    """Whether every entry of ``path`` is a directory (or absent) and no import hook finds
    distributions of its own: then this module's reading finds what importlib's would."""
    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is None:
            continue
        owner = finder if isinstance(finder, type) else type(finder)
        if owner.__module__ not in _PATH_FINDERS:
            return False
    return not any(os.path.isfile(entry) for entry in path if entry)


def _through_importlib(path: Sequence[str]) -> Iterator[Distribution]:
    import importlib.metadata

    for dist in importlib.metadata.distributions(path=list(path)):
        name = dist.metadata["Name"] or ""
        yield Distribution(_key(name), None, dist)


def _search(path: Iterable[str] | None, key: str | None) -> Iterator[Distribution]:
    entries = list(sys.path if path is None else path)
    if not _readable(entries):
        yield from (d for d in _through_importlib(entries) if key is None or d.key == key)
        return
    for entry in entries:
        yield from _in_folder(entry, key)


def distributions(path: Iterable[str] | None = None) -> list[Distribution]:
    """Every distribution on ``path`` (default ``sys.path``), the first of each name only."""
    unique: dict[str, Distribution] = {}
    for dist in _search(path, None):
        if dist.key and dist.key not in unique:
            unique[dist.key] = dist
    return list(unique.values())


def find(name: str, path: Iterable[str] | None = None) -> Distribution | None:
    """The distribution ``name`` that ``importlib.metadata.distribution`` would give."""
    return next(_search(path, _key(name)), None)
