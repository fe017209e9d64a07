"""A provider instance's policy: its limits, health thresholds and error reactions.

Parsed from the reserved keys of a ``[providers.<name>]`` table (``daily_quota``, ``quotas``,
``rate_limit``, ``wait_for_limits``, ``health``, ``on_error``); the parser returns the policy
and a list of ``(key, message, fix)`` problems so the config loader can report them all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from aicmo_gateway.config_values import BadValue, Range, key_part, read_bool, read_number, shown
from aicmo_gateway.engine.health import HealthPolicy
from aicmo_gateway.engine.on_error import Problem, read_on_error
from aicmo_gateway.errors import ConfigError
from aicmo_gateway.outcome import Action
from aicmo_gateway.plugins.provider_type import PERIODS, Quota, RateLimit

__all__ = ["LIMIT_RANGES", "PROVIDER_POLICY_KEYS", "ProviderPolicy", "parse_provider_policy"]

PROVIDER_POLICY_KEYS = (
    "daily_quota",
    "quotas",
    "rate_limit",
    "wait_for_limits",
    "health",
    "on_error",
)

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|second|m|minute|h|hour|d|day)\s*$")
_RATE_UNITS = {
    "s": 1.0,
    "second": 1.0,
    "m": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
}

#: every numeric key of a provider's limits
LIMIT_RANGES: dict[str, tuple[Range, Any]] = {
    "quota": (Range(0, 1_000_000_000, whole=True), 500),
    "rate_limit.per_second": (Range(0, 1_000_000, above=True), 10),
    "rate_limit.burst": (Range(1, 1_000_000, whole=True), 20),
}


@attrs.frozen
class ProviderPolicy:
    """A provider instance's limits, health thresholds and error reactions."""

    rate_limit: RateLimit | None = None
    quotas: tuple[Quota, ...] = ()
    health: HealthPolicy = attrs.field(factory=HealthPolicy)
    on_error: Mapping[str, Action] = attrs.field(factory=dict)
    #: when the rate limit or a quota holds a call back: wait (within the call's deadline)
    #: instead of skipping to the next provider
    wait_for_limits: bool = False


def _limit(raw: Any, name: str, key: str, problems: list[Problem]) -> Any:
    spec, example = LIMIT_RANGES[name]
    try:
        return read_number(raw, spec, key, example)
    except BadValue as bad:
        problems.append((key, bad.message, bad.fix))
        return None


def _rate(raw: Any, problems: list[Problem]) -> RateLimit | None:
    fix = 'write rate_limit = "10/s" (or "/m", "/h", "/d"), or { per_second = 10, burst = 20 }'
    if isinstance(raw, str):
        match = _RATE.match(raw)
        if not match:
            problems.append(("rate_limit", f"{shown(raw)} is not a rate", fix))
            return None
        count = float(match.group(1))
        per_second = count / _RATE_UNITS[match.group(2)]
        spec = LIMIT_RANGES["rate_limit.per_second"][0]
        if not spec.contains(per_second):
            problems.append(
                (
                    "rate_limit",
                    f"{shown(raw)} is out of range: use {spec.allowed()} per second",
                    fix,
                )
            )
            return None
        return RateLimit(per_second=per_second, burst=max(1, min(int(count), 1_000_000)))
    if isinstance(raw, Mapping):
        for k in raw:
            if k not in ("per_second", "burst"):
                problems.append((f"rate_limit.{key_part(k)}", "is not a rate limit setting", fix))
        if "per_second" not in raw:
            problems.append(("rate_limit.per_second", "is missing", fix))
            return None
        per_second = _limit(
            raw["per_second"], "rate_limit.per_second", "rate_limit.per_second", problems
        )
        burst = _limit(raw.get("burst", 1), "rate_limit.burst", "rate_limit.burst", problems)
        if per_second is None or burst is None:
            return None
        return RateLimit(per_second=per_second, burst=burst)
    problems.append(("rate_limit", f"expected a string or a table, got {shown(raw)}", fix))
    return None


def parse_provider_policy(
    reserved: Mapping[str, Any], defaults_rate: RateLimit | None, default_quotas: tuple[Quota, ...]
) -> tuple[ProviderPolicy, list[Problem]]:
    """The reserved keys of a provider table -> policy (type defaults apply) and problems."""
    problems: list[Problem] = []
    rate = defaults_rate
    if "rate_limit" in reserved:
        rate = _rate(reserved["rate_limit"], problems)
    quotas: dict[str, Quota] = {q.period: q for q in default_quotas}
    raw_quotas = (
        dict(reserved.get("quotas") or {}) if isinstance(reserved.get("quotas"), Mapping) else {}
    )
    if "daily_quota" in reserved:
        raw_quotas["day"] = reserved["daily_quota"]
    if "quotas" in reserved and not isinstance(reserved["quotas"], Mapping):
        problems.append(
            (
                "quotas",
                f"must be a table of period = limit, got {shown(reserved['quotas'])}",
                "write quotas = { day = 500, hour = 100 }",
            )
        )
        raw_quotas = {}
    for period, limit in raw_quotas.items():
        daily = period == "day" and "daily_quota" in reserved
        key = "daily_quota" if daily else f"quotas.{key_part(period)}"
        if period not in PERIODS:
            problems.append((key, "is not a period", f"use one of: {', '.join(PERIODS)}"))
            continue
        number = _limit(limit, "quota", key, problems)
        if number is not None:
            quotas[period] = Quota(limit=number, period=period)
    raw_health = reserved.get("health", {})
    health = HealthPolicy()
    if not isinstance(raw_health, Mapping):
        problems.append(
            (
                "health",
                f"must be a table, got {shown(raw_health)}",
                "write health = { consecutive_failures = 3, open_seconds = 60 }",
            )
        )
    else:
        try:
            health = HealthPolicy.from_config(raw_health)
        except ConfigError as exc:
            problems.extend((f"health.{p.key}", p.message, p.fix) for p in exc.problems)
    wait = False
    try:
        wait = read_bool(reserved.get("wait_for_limits", False), "wait_for_limits")
    except BadValue as bad:
        problems.append(("wait_for_limits", bad.message, bad.fix))
    policy = ProviderPolicy(
        rate_limit=rate,
        quotas=tuple(quotas.values()),
        health=health,
        on_error=read_on_error(reserved.get("on_error"), problems),
        wait_for_limits=wait,
    )
    return policy, problems
