"""``HealthPolicy``: the thresholds and periods of one provider's breaker, validated.

This module imports only :mod:`aicmo_gateway.errors` and :mod:`aicmo_gateway.config_values`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

import attrs

from aicmo_gateway.config_values import MAX_SECONDS, BadValue, Range, key_part, read_number
from aicmo_gateway.errors import ConfigError, ConfigProblem

__all__ = ["HealthPolicy"]

_COUNT = 1_000_000
#: every health key's allowed values (docs/configuration.md#health); "off" sets None
RANGES: dict[str, Range] = {
    "window_size": Range(0, _COUNT, whole=True, off=True),
    "window_seconds": Range(0, MAX_SECONDS, off=True),
    "min_calls": Range(0, _COUNT, whole=True),
    "failure_rate_threshold": Range(0, 1, off=True),
    "degraded_threshold": Range(0, 1, off=True),
    "consecutive_failures": Range(0, _COUNT, whole=True, off=True),
    "slow_call_seconds": Range(0, MAX_SECONDS, off=True),
    "open_seconds": Range(0, MAX_SECONDS),
    "open_multiplier": Range(1, 1000),
    "open_max_seconds": Range(0, MAX_SECONDS, off=True),
    "recovery_successes": Range(0, _COUNT, whole=True, off=True),
    "half_open_probes": Range(0, _COUNT, whole=True),
    "ewma_alpha": Range(0, 1),
}
_OFF = "off"  # how a config file (TOML has no null) spells None


def _example(name: str) -> Any:
    default = attrs.fields_dict(HealthPolicy)[name].default
    return _OFF if default is None else default


def _problems(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every (key, message, fix) wrong with a complete set of policy values."""
    found: list[tuple[str, str, str]] = []
    for name, spec in RANGES.items():
        value = values[name]
        if value is None and spec.off:
            continue
        try:
            read_number(value, spec, name, _example(name))
        except BadValue as bad:
            found.append((name, bad.message, f"{bad.fix} (the default)"))
    if {"window_size", "window_seconds"} & {key for key, _, _ in found}:
        return found
    if values["window_size"] is None and values["window_seconds"] is None:
        found.append(
            ("window_size", "the window is unbounded", "set window_size, window_seconds or both")
        )
    size, rate = values["window_size"], values["failure_rate_threshold"]
    checked = not {"min_calls", "failure_rate_threshold"} & {key for key, _, _ in found}
    if checked and rate is not None and size is not None and values["min_calls"] > size:
        found.append(
            (
                "min_calls",
                f"{values['min_calls']} is more than window_size ({size}), "
                "so the failure-rate rule could never trip",
                f'lower min_calls, raise window_size, or set failure_rate_threshold = "{_OFF}"',
            )
        )
    return found


@attrs.frozen
class HealthPolicy:
    """When a provider's breaker trips, how long it stays open, how it recovers.

    ``None`` disables a rule; zero is always taken literally:

    ==========================  ======================================  ===============
    field                       zero means                              ``None`` means
    ==========================  ======================================  ===============
    ``window_size``             the window keeps no calls (no rate)     no count limit
    ``window_seconds``          the window keeps no calls (no rate)     no time limit
    ``min_calls``               the rate applies from the first call    (not allowed)
    ``failure_rate_threshold``  any failure trips (after min_calls)     no rate rule
    ``degraded_threshold``      any failure in the window is DEGRADED   never DEGRADED
                                                                        while CLOSED
    ``consecutive_failures``    any failure trips (as with 1)           no streak rule
    ``slow_call_seconds``       every call taking any time is slow      nothing is slow
    ``open_seconds``            open ends at once; probe right away     (not allowed)
    ``open_max_seconds``        every open period is zero               no cap
    ``recovery_successes``      every success while CLOSED forgives     trips are never
                                one trip                                forgiven
    ``half_open_probes``        no probes: the breaker closes when the  (not allowed)
                                open period ends
    ``ewma_alpha``              latency stays at the first sample       (not allowed)
    ==========================  ======================================  ===============

    The window holds the last ``window_size`` calls, further limited to those
    recorded less than ``window_seconds`` ago when that is set. Rates count a call
    as failed when ``ok=False``, and a slow call as a failure too. A call is slow
    when it took strictly longer than ``slow_call_seconds``. ``open_multiplier``
    is at least 1 (1: every trip gets ``open_seconds``).
    """

    window_size: int | None = 20
    window_seconds: float | None = None
    min_calls: int = 10
    failure_rate_threshold: float | None = 0.5
    degraded_threshold: float | None = 0.1
    consecutive_failures: int | None = 5
    slow_call_seconds: float | None = None
    open_seconds: float = 2.0
    open_multiplier: float = 2.0
    open_max_seconds: float | None = 5.0
    recovery_successes: int | None = 10
    half_open_probes: int = 1
    ewma_alpha: float = 0.2

    def __attrs_post_init__(self) -> None:
        found = _problems(attrs.asdict(self))
        if found:
            raise ConfigError([ConfigProblem("HealthPolicy", *problem) for problem in found])

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, source: str = "<mapping>", key: str = ""
    ) -> HealthPolicy:
        """A policy from a config table; missing keys keep their defaults.

        ``"off"`` (or ``None``) disables a rule. Raises :class:`ConfigError` (a
        ``ValueError``) naming every bad key (prefixed with ``key``), the value and
        the allowed range.
        """
        prefix = f"{key}." if key else ""
        problems: list[ConfigProblem] = []
        values: dict[str, Any] = {}
        for name, value in config.items():
            if not isinstance(name, str) or name not in RANGES:
                near = difflib.get_close_matches(name, RANGES, n=1) if isinstance(name, str) else []
                fix = f"did you mean {near[0]!r}?" if near else "use one of " + ", ".join(RANGES)
                problems.append(
                    ConfigProblem(source, prefix + key_part(name), "unknown health key", fix)
                )
                continue
            try:
                values[name] = read_number(value, RANGES[name], name, _example(name))
            except BadValue:
                values[name] = value  # reported below, with the other problems
        defaults = {field.name: field.default for field in attrs.fields(cls)}
        problems += [
            ConfigProblem(source, prefix + name, message, fix)
            for name, message, fix in _problems(defaults | values)
        ]
        if problems:
            raise ConfigError(problems)
        return cls(**values)

    def open_period(self, trips: int) -> float:
        """Seconds trip number ``trips`` (1 for the first) keeps the breaker open."""
        if self.open_seconds == 0:
            return 0.0
        try:
            period = self.open_seconds * self.open_multiplier ** max(trips - 1, 0)
        except OverflowError:
            period = math.inf
        return period if self.open_max_seconds is None else min(period, self.open_max_seconds)
