"""Finding plugins: installed entry points, the environment switches, per-plugin checks.

Stateless helpers for :class:`aicmo_gateway.plugins.Registry`: which candidates
exist, whether one may load (core version), loading it, and what is wrong with
its hooks. A problem that quarantines a plugin is raised as :class:`Quarantine`.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pluggy

from aicmo_gateway.plugins import hookspecs, metadata
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
    dist = metadata.find(CORE_DISTRIBUTION)
    version = None if dist is None else dist.header("Version")
    return version or "0+unknown"


def env_list(env: Mapping[str, str], key: str) -> set[str] | None:
    raw = env.get(key)
    if raw is None:
        return None
    return {canonicalize_name(p.strip()) for p in raw.split(",") if p.strip()}


class Candidate:
    """One entry point in the group (or a given plugin object), before it is loaded.

    A plain class, not attrs: discovery builds one per plugin and nothing compares them.
    """

    __slots__ = ("builtin", "distribution", "entry_point", "module", "name", "requires", "version")

    def __init__(
        self,
        name: str,
        distribution: str,
        version: str,
        module: str,
        entry_point: Any,  # a metadata.EntryPoint, or a loaded module/object
        requires: tuple[str, ...] = (),
        builtin: bool = False,
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.module = module
        self.entry_point = entry_point
        self.requires = requires
        self.builtin = builtin

    def __repr__(self) -> str:
        return f"Candidate({self.name!r}, {self.distribution!r}, {self.version!r})"

    def matches(self, names: set[str]) -> bool:
        return (
            canonicalize_name(self.distribution) in names or canonicalize_name(self.name) in names
        )


class Quarantine(Exception):
    def __init__(self, reason: str, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def _entry_points(path: Sequence[str] | None) -> list[tuple[metadata.Distribution, Any]]:
    """``(distribution, entry point)`` for every entry point in the group, first install wins.

    Only each distribution's ``entry_points.txt`` is read here; the metadata headers of the
    few that are plugins are read afterwards.
    """
    dists = metadata.distributions(path)
    if path is not None:  # the core always comes from the running installation
        core = metadata.find(CORE_DISTRIBUTION, sys.path)
        if core is not None:
            dists = [core, *(d for d in dists if d.key != core.key)]
    return [(dist, ep) for dist in dists for ep in dist.entry_points(GROUP)]


def find_candidates(path: Sequence[str] | None) -> list[Candidate]:
    found: list[Candidate] = []
    core_found = False
    for dist, ep in _entry_points(path):
        dist_name = dist.header("Name") or ""
        is_core = canonicalize_name(dist_name) == CORE_DISTRIBUTION
        core_found = core_found or is_core
        found.append(
            Candidate(
                name=ep.name,
                distribution=dist_name,
                version=dist.header("Version") or "0+unknown",
                module=ep.value,
                entry_point=ep,
                requires=dist.requires(),
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
        verdict = _admits_core(line, current)
        if verdict is not None and not verdict[0]:
            raise Quarantine(
                f"it requires {CORE_DISTRIBUTION}{verdict[1]}, but {current} is "
                f"installed; install a release of {cand.distribution} made for "
                f"{CORE_DISTRIBUTION} {current}, or a matching core"
            )


def _admits_core(line: str, current: str) -> tuple[bool, str] | None:
    """Whether a ``Requires-Dist`` line admits the core's version ``current``, and its
    specifiers as shown; None when it is not about the core, applies only with an extra, or
    cannot be read.

    The usual line (``aicmo-gateway>=0.1.2,<0.2`` with a plain release installed) is decided
    here; anything else (``~=``, wildcards, pre-releases, markers) by ``packaging``.
    """
    plain = _PLAIN_REQUIREMENT.fullmatch(line)
    if plain is not None:
        if canonicalize_name(plain[1]) != CORE_DISTRIBUTION:
            return None
        clauses = _plain_clauses(plain[2])
        if clauses is not None and _RELEASE.fullmatch(current):
            installed = _release(current)
            admitted = all(_COMPARE[op](installed, _release(v)) for op, v in clauses)
            return admitted, ",".join(sorted({op + v for op, v in clauses}))
    specifier = _core_specifier(line)
    if specifier is None:
        return None
    from packaging.version import Version

    return specifier.contains(Version(current), prereleases=True), str(specifier)


#: a release number without pre-, post- or dev-release, epoch or local part
_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_CLAUSE = re.compile(r"\s*(==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*)\s*")
#: PEP 440's comparisons, for release numbers only (where they are plain tuple comparisons)
_COMPARE: dict[str, Any] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


def _plain_clauses(text: str) -> list[tuple[str, str]] | None:
    """``>=0.1.2,<0.2`` as ``[(">=", "0.1.2"), ("<", "0.2")]``; None for any other form."""
    clauses = []
    for part in text.split(","):
        if not part.strip():
            if text.strip():
                return None  # an empty clause between commas: packaging refuses it
            continue
        match = _CLAUSE.fullmatch(part)
        if match is None:
            return None
        clauses.append((match[1], match[2]))
    return clauses


def _release(text: str) -> tuple[int, ...]:
    """A release number as a tuple without trailing zeros (``1.0`` equals ``1``)."""
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _core_specifier(line: str) -> Any:
    """The core's ``packaging`` SpecifierSet in a ``Requires-Dist`` line; None when it is not
    about the core, applies only with an extra, or cannot be read."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    plain = _PLAIN_REQUIREMENT.fullmatch(line)
    if plain is not None:
        if canonicalize_name(plain[1]) != CORE_DISTRIBUTION:
            return None
        with contextlib.suppress(InvalidSpecifier):
            return SpecifierSet(plain[2])
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
        if isinstance(cand.entry_point, metadata.EntryPoint):
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
            import difflib

            guess = difflib.get_close_matches(caller.name, known, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            warnings.append(f"{caller.name!r} is not an aicmo-gateway hook{hint}")
    registered = {c.name for c in pm.get_hookcallers(obj) or []}
    for attr in dir(obj):
        if attr in known and attr not in registered and callable(getattr(obj, attr)):
            warnings.append(f"{attr!r} is defined without @hookimpl, so it is never called")
    return warnings
