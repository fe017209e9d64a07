"""Finding plugins: installed entry points, the environment switches, per-plugin checks.

Stateless helpers for :class:`aicmo_gateway.plugins.Registry`: which candidates
exist, whether one may load (core version), loading it, and what is wrong with
its hooks. A problem that quarantines a plugin is raised as :class:`Quarantine`.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import importlib_metadata
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from aicmo_gateway.plugins import hookspecs
from aicmo_gateway.plugins.provider_type import ProviderType
from aicmo_gateway.plugins.switches import (
    CORE_DISTRIBUTION,
    ENV_DISABLE,
    ENV_LOAD,
    ENV_STRICT,
    ENV_TRACE,
)

GROUP = hookspecs.PROJECT
_SEPARATORS = re.compile(r"[-_.]+")
#: a requirement as build backends write the core's: ``name [extras] specifiers``, no marker
#: and no URL; anything else goes to packaging's full PEP 508 parser
_PLAIN_REQUIREMENT = re.compile(
    r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;@()]*?)\)?\s*"
)
BUILTIN_MODULE = "aicmo_gateway.builtin.plugin"
__all__ = [
    "BUILTIN_MODULE",
    "CORE_DISTRIBUTION",
    "ENV_DISABLE",
    "ENV_LOAD",
    "ENV_STRICT",
    "ENV_TRACE",
    "GROUP",
    "Candidate",
    "Quarantine",
    "as_provider_types",
    "canonicalize_name",
    "check_core_requirement",
    "core_version",
    "env_list",
    "find_candidates",
    "hook_warnings",
    "import_candidate",
]


def canonicalize_name(name: str) -> str:
    """A distribution name normalized as PEP 503 says (``packaging.utils.canonicalize_name``'s
    rule), without importing ``packaging.utils``, which loads ``packaging.tags`` and with it
    ``logging``, ``subprocess`` and ``sysconfig``."""
    return _SEPARATORS.sub("-", name).lower()


@functools.cache
def core_version() -> str:
    """The installed core's version (looked up once per process)."""
    try:
        return importlib_metadata.version(CORE_DISTRIBUTION)
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


def env_list(env: Mapping[str, str], key: str) -> set[str] | None:
    raw = env.get(key)
    if raw is None:
        return None
    return {canonicalize_name(p.strip()) for p in raw.split(",") if p.strip()}


@attrs.frozen
class Candidate:
    name: str
    distribution: str
    version: str
    module: str
    entry_point: Any  # importlib_metadata.EntryPoint, or a loaded module/object
    requires: tuple[str, ...] = ()
    builtin: bool = False

    def matches(self, names: set[str]) -> bool:
        return (
            canonicalize_name(self.distribution) in names or canonicalize_name(self.name) in names
        )


class Quarantine(Exception):
    def __init__(self, reason: str, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def _entry_points(path: Sequence[str] | None) -> list[tuple[Any, Any]]:
    """``(distribution, entry point)`` for every entry point in the group, first install wins.

    On ``sys.path`` this reads each distribution's ``entry_points.txt`` only; the metadata of
    the few that are plugins is read afterwards (parsing every installed distribution's
    metadata was most of the ``plugins`` command's time).
    """
    if path is None:
        return [(ep.dist, ep) for ep in importlib_metadata.entry_points(group=GROUP)]
    dists = list(importlib_metadata.distributions(path=list(path)))
    # the core always comes from the running installation
    with contextlib.suppress(importlib_metadata.PackageNotFoundError):
        dists.insert(0, importlib_metadata.distribution(CORE_DISTRIBUTION))
    found = []
    seen: set[str] = set()
    for dist in dists:
        key = canonicalize_name(dist.metadata["Name"] or "")
        if not key or key in seen:
            continue
        seen.add(key)
        found += [(dist, ep) for ep in dist.entry_points.select(group=GROUP)]
    return found


def _headers(dist: Any) -> Any:
    """The distribution's metadata headers, without parsing the long description after them.

    ``dist.metadata`` parses the whole file, README included, on every access; the standard
    library's ``HeaderParser`` stops at the headers.
    """
    from email.parser import HeaderParser

    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if text is None:
        return dist.metadata
    return HeaderParser().parsestr(text)


def find_candidates(path: Sequence[str] | None) -> list[Candidate]:
    found: list[Candidate] = []
    core_found = False
    for dist, ep in _entry_points(path):
        headers = _headers(dist)
        dist_name = headers["Name"] or ""
        is_core = canonicalize_name(dist_name) == CORE_DISTRIBUTION
        core_found = core_found or is_core
        requires = headers.get_all("Requires-Dist")
        found.append(
            Candidate(
                name=ep.name,
                distribution=dist_name,
                version=headers["Version"],
                module=ep.value,
                entry_point=ep,
                requires=tuple(dist.requires or () if requires is None else requires),
                builtin=is_core,
            )
        )
    if not core_found:  # running from a source tree without an installed distribution
        found.append(
            Candidate(
                name="builtin",
                distribution=CORE_DISTRIBUTION,
                version=core_version(),
                module=BUILTIN_MODULE,
                entry_point=None,
                builtin=True,
            )
        )
    found.sort(key=lambda c: (not c.builtin, canonicalize_name(c.distribution), c.name))
    return found


def as_provider_types(result: Any, hook: str) -> list[ProviderType]:
    if result is None:
        return []
    if isinstance(result, ProviderType):
        return [result]
    if isinstance(result, str | bytes | Mapping) or not isinstance(result, Iterable):
        raise Quarantine(
            f"{hook} returned {type(result).__name__}, not ProviderType records; "
            "return a list of ProviderType(...)"
        )
    items = list(result)
    for item in items:
        if not isinstance(item, ProviderType):
            raise Quarantine(
                f"{hook} returned a {type(item).__name__} ({item!r:.60}), not a ProviderType; "
                "wrap each provider in ProviderType(name=..., factory=...)"
            )
    return items


def check_core_requirement(cand: Candidate) -> None:
    if cand.builtin:
        return
    current = core_version()
    for line in cand.requires:
        if CORE_DISTRIBUTION not in canonicalize_name(line.split(";")[0]):
            continue  # another dependency: no need to parse it
        specifier = _core_specifier(line)
        if specifier is not None and not specifier.contains(Version(current), prereleases=True):
            raise Quarantine(
                f"it requires {CORE_DISTRIBUTION}{specifier}, but {current} is "
                f"installed; install a release of {cand.distribution} made for "
                f"{CORE_DISTRIBUTION} {current}, or a matching core"
            )


def _core_specifier(line: str) -> SpecifierSet | None:
    """The versions of the core a ``Requires-Dist`` line admits; None when it is not about the
    core, applies only with an extra, or cannot be read."""
    plain = _PLAIN_REQUIREMENT.fullmatch(line)
    if plain is not None:
        if canonicalize_name(plain[1]) != CORE_DISTRIBUTION:
            return None
        with contextlib.suppress(InvalidSpecifier):
            return SpecifierSet(plain[2])
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None
    if canonicalize_name(req.name) != CORE_DISTRIBUTION:
        return None
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        return None
    return req.specifier


def import_candidate(cand: Candidate) -> Any:
    try:
        if cand.entry_point is None:
            import importlib

            return importlib.import_module(cand.module)
        if isinstance(cand.entry_point, importlib_metadata.EntryPoint):
            return cand.entry_point.load()
        return cand.entry_point
    except Exception as exc:
        raise Quarantine(
            f"importing {cand.module} failed: {type(exc).__name__}: {exc}", exc
        ) from exc


def hook_warnings(pm: pluggy.PluginManager, obj: Any) -> list[str]:
    known = [name for name in dir(hookspecs) if name.startswith("aicmo_")]
    warnings = []
    for caller in pm.get_hookcallers(obj) or []:
        if not caller.has_spec():
            guess = difflib.get_close_matches(caller.name, known, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            warnings.append(f"{caller.name!r} is not an aicmo-gateway hook{hint}")
    registered = {c.name for c in pm.get_hookcallers(obj) or []}
    for attr in dir(obj):
        if attr in known and attr not in registered and callable(getattr(obj, attr)):
            warnings.append(f"{attr!r} is defined without @hookimpl, so it is never called")
    return warnings
