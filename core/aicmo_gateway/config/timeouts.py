"""Attempt timeouts shorter than a provider type needs: a config warning that names the fix.

A provider type may declare the time one attempt needs at least
(``ProviderType.min_attempt_timeout``: a service polled for its result, such as Dropcontact's
batches). A capability whose ``attempt_timeout`` (or ``deadline``) is shorter cuts every
such attempt short and falls back as if the provider had failed: the config loads, with a
warning saying so and what to set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aicmo_gateway.config.load import CapabilityConfig
    from aicmo_gateway.plugins.registry import Registry

__all__ = ["timeout_warnings"]

#: a declared minimum above this is taken as this (the longest duration a key accepts)
_LONGEST = 7 * 86400.0


def _duration(seconds: float) -> str:
    """``seconds`` as a duration to write in the file, rounded up: ``"4m"``, ``"210s"``."""
    whole = math.ceil(seconds)
    return f"{whole // 60}m" if whole >= 60 and whole % 60 == 0 else f"{whole}s"


def needed(
    declared: float | Callable[[Mapping[str, Any]], float | None] | None,
    settings: Mapping[str, Any],
) -> float | None:
    """The seconds an instance with ``settings`` needs per attempt, if its type says."""
    if callable(declared):
        try:
            declared = declared(settings)
        except Exception:  # a plugin's mistake must not stop the config from loading
            return None
    if isinstance(declared, bool) or not isinstance(declared, int | float):
        return None
    if not declared > 0 or math.isnan(declared):
        return None
    return min(float(declared), _LONGEST)


def timeout_warnings(
    source: str,
    capabilities: Mapping[str, CapabilityConfig],
    types: Mapping[str, str],
    checked: Mapping[str, Mapping[str, tuple[Any, Mapping[str, Any]]]],
    registry: Registry,
) -> list[str]:
    """One warning per provider of a capability whose attempt time is shorter than its type
    needs. ``types`` maps instance names to type names; ``checked`` holds each instance's
    settings as checked for each capability."""
    warnings = []
    for cap, config in capabilities.items():
        for name in config.providers:
            if name not in types or cap not in checked.get(name, {}):
                continue
            try:
                declared = registry.get(cap, types[name]).min_attempt_timeout
            except LookupError:
                continue
            seconds = needed(declared, checked[name][cap][1])
            if seconds is None:
                continue
            short = [
                key
                for key, value in (
                    ("attempt_timeout", config.attempt_timeout),
                    ("deadline", config.deadline),
                )
                if value is not None and value < seconds
            ]
            if not short:
                continue
            now = " and ".join(f"{key} = {_duration(getattr(config, key))}" for key in short)
            fix = " and ".join(f'{key} = "{_duration(seconds)}"' for key in short)
            warnings.append(
                f"{source}: capabilities.{cap}: providers.{name} (type {types[name]!r}) needs "
                f"at least {_duration(seconds)} per attempt, but {now} "
                f"{'cut' if len(short) > 1 else 'cuts'} it short, so its slow answers fail "
                f"over; set {fix} (or more) under [capabilities.{cap}]"
            )
    return warnings
