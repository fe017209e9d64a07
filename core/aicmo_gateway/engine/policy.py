"""Chain and provider policies: the resilience settings of a capability and of a provider.

Parsed from ``[capabilities.<name>]`` and from the reserved keys of
``[providers.<name>]`` tables (``daily_quota``, ``quotas``, ``rate_limit``,
``health``, ``on_error``); each parser returns the policy and a list of
``(key, message, fix)`` problems so the config loader can report them all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from aicmo_gateway.config_values import (
    MAX_SECONDS,
    BadValue,
    Range,
    key_part,
    parse_duration,
    read_bool,
    read_number,
    shown,
)
from aicmo_gateway.engine.classify import ERROR_NAMES, REACTIONS
from aicmo_gateway.engine.health import HealthPolicy
from aicmo_gateway.errors import ConfigError
from aicmo_gateway.outcome import Action
from aicmo_gateway.plugins.provider_type import PERIODS, Quota, RateLimit

__all__ = [
    "CAPABILITY_KEYS",
    "PROVIDER_POLICY_KEYS",
    "STRATEGIES",
    "ChainPolicy",
    "ProviderPolicy",
    "parse_duration",
]

STRATEGIES = ("failover", "waterfall", "fanout", "hedge")
READ_ONLY_STRATEGIES = ("waterfall", "hedge")
ORDERS = ("config", "health")
ALL_DOWN = ("fail", "wait", "closest", "defer")
AFTER_AMBIGUOUS = ("never", "idempotent")
CAPABILITY_KEYS = (
    "providers",
    "strategy",
    "order",
    "deadline",
    "attempt_timeout",
    "max_attempts",
    "retries",
    "retry_backoff",
    "retry_budget",
    "when_all_down",
    "hedge_delay",
    "fallback_after_ambiguous",
    "stall_calls",
    "stall_factor",
    "on_error",
)
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

Problem = tuple[str, str, str]  # (key suffix, message, fix)

_DURATION_OFF = Range(0, MAX_SECONDS, above=True, off=True, seconds=True)
#: every numeric key of a capability table: its allowed values and an example for the fix
CHAIN_RANGES: dict[str, tuple[Range, Any]] = {
    "deadline": (_DURATION_OFF, "30s"),
    "attempt_timeout": (_DURATION_OFF, "10s"),
    "max_attempts": (Range(1, 1000, whole=True), 3),
    "retries": (Range(0, 100, whole=True), 2),
    "retry_backoff": (Range(0, MAX_SECONDS, seconds=True), "100ms"),
    "hedge_delay": (Range(0, MAX_SECONDS, off=True, seconds=True), "200ms"),
    "stall_calls": (Range(1, 1_000_000, whole=True, off=True), 5),
    "stall_factor": (Range(1, 1000), 4),
    "retry_budget.ratio": (Range(0, 100), 0.2),
    "retry_budget.min_per_second": (Range(0, 1_000_000), 1),
}
#: every numeric key of a provider's limits
LIMIT_RANGES: dict[str, tuple[Range, Any]] = {
    "quota": (Range(0, 1_000_000_000, whole=True), 500),
    "rate_limit.per_second": (Range(0, 1_000_000, above=True), 10),
    "rate_limit.burst": (Range(1, 1_000_000, whole=True), 20),
}
#: keys that only one strategy reads: set under another, they would be ignored silently
STRATEGY_KEYS = {"hedge_delay": "hedge"}


@attrs.frozen
class ChainPolicy:
    """How a capability's chain behaves. Defaults suit interactive calls."""

    strategy: str = "failover"
    #: "config": the configured order; "health": healthiest and fastest first
    order: str = "config"
    #: seconds for the whole call, all providers included (None: no limit)
    deadline: float | None = 30.0
    #: seconds for one attempt on one provider (None: no limit)
    attempt_timeout: float | None = 10.0
    #: attempts across the whole chain (None: one per provider plus retries)
    max_attempts: int | None = None
    #: extra attempts on the same provider for errors whose reaction is "retry"
    retries: int = 0
    #: base of the full-jitter backoff between retries on one provider, seconds
    retry_backoff: float = 0.1
    retry_budget_ratio: float = 0.2
    retry_budget_min_per_second: float = 1.0
    #: when every provider is unavailable: "fail" at once, "wait" for the first to recover
    #: within the deadline, try the one "closest" to recovery anyway, or (writes, with an
    #: outbox) "defer": store the write at once, due when the first provider recovers
    when_all_down: str = "fail"
    #: hedge: start the next provider after this many seconds (None: the first's p99)
    hedge_delay: float | None = None
    #: after a write may have been performed: "never" try another provider (the key only
    #: de-duplicates where it was seen), or "idempotent": those honouring keys may be tried
    fallback_after_ambiguous: str = "never"
    #: skip a provider while this many of its calls are in flight for longer than
    #: ``stall_factor`` times its usual latency (None: never); catches a black hole early
    stall_calls: int | None = 5
    stall_factor: float = 4.0
    on_error: Mapping[str, Action] = attrs.field(factory=dict)


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


def _on_error(raw: Any, problems: list[Problem]) -> dict[str, Action]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(
            (
                "on_error",
                f"must be a table of error name = reaction, got {shown(raw)}",
                'write on_error = { Unavailable = "retry" }',
            )
        )
        return {}
    result: dict[str, Action] = {}
    for name, reaction in raw.items():
        if name not in ERROR_NAMES:
            problems.append(
                (
                    f"on_error.{key_part(name)}",
                    "is not an error the chain reacts to",
                    f"use one of: {', '.join(ERROR_NAMES)}",
                )
            )
            continue
        try:
            action = Action(reaction)
            if action not in REACTIONS:
                raise ValueError(reaction)
            result[name] = action
        except (ValueError, TypeError):
            problems.append(
                (
                    f"on_error.{name}",
                    f"{shown(reaction)} is not a reaction",
                    "use one of: " + ", ".join(r.value for r in REACTIONS),
                )
            )
    return result


def _choice(
    body: Mapping[str, Any],
    key: str,
    choices: tuple[str, ...],
    default: str,
    problems: list[Problem],
) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or value not in choices:
        problems.append(
            (key, f"{shown(value)} is not a valid {key}", f"use one of: {', '.join(choices)}")
        )
        return default
    return str(value)


def _number(
    body: Mapping[str, Any], key: str, default: Any, problems: list[Problem], prefix: str = ""
) -> Any:
    """``body[key]`` read against its declared range (the default when absent or wrong)."""
    if key not in body:
        return default
    spec, example = CHAIN_RANGES[prefix + key]
    try:
        return read_number(body[key], spec, key, example)
    except BadValue as bad:
        problems.append((prefix + key, bad.message, bad.fix))
        return default


def parse_chain_policy(
    body: Mapping[str, Any], read_only: bool
) -> tuple[ChainPolicy, list[Problem]]:
    """A capability table -> policy and problems. ``read_only``: every operation is a read."""
    problems: list[Problem] = []
    strategy = _choice(body, "strategy", STRATEGIES, "failover", problems)
    if strategy in READ_ONLY_STRATEGIES and not read_only:
        problems.append(
            (
                "strategy",
                f"{strategy!r} is for reads, and this capability writes",
                'use "failover" or "fanout"',
            )
        )
        strategy = "failover"
    if strategy == "fanout" and read_only:
        problems.append(
            (
                "strategy",
                "'fanout' is for writes, and this capability only reads",
                'use "failover", "waterfall" or "hedge"',
            )
        )
        strategy = "failover"
    if body.get("when_all_down") == "defer" and read_only:
        problems.append(
            (
                "when_all_down",
                "'defer' stores writes in the outbox, and this capability only reads "
                "(a read is never deferred)",
                'use "fail", "wait" or "closest"',
            )
        )
    ratio, floor = 0.2, 1.0
    budget = body.get("retry_budget", {})
    if not isinstance(budget, Mapping):
        problems.append(
            (
                "retry_budget",
                f"must be a table, got {shown(budget)}",
                "write retry_budget = { ratio = 0.2, min_per_second = 1 }",
            )
        )
    else:
        for k in budget:
            if k not in ("ratio", "min_per_second"):
                problems.append(
                    (
                        f"retry_budget.{key_part(k)}",
                        "is not a retry budget setting",
                        "the keys are ratio and min_per_second",
                    )
                )
        ratio = _number(budget, "ratio", ratio, problems, "retry_budget.")
        floor = _number(budget, "min_per_second", floor, problems, "retry_budget.")
    written = body.get("strategy", "failover")
    for key, only in STRATEGY_KEYS.items():
        if key in body and written != only:
            problems.append(
                (
                    key,
                    f"is only read by strategy = {only!r}, and this capability's strategy is "
                    f"{shown(written)}, so it would be ignored",
                    f'remove it, or set strategy = "{only}"',
                )
            )
    policy = ChainPolicy(
        strategy=strategy,
        order=_choice(body, "order", ORDERS, "config", problems),
        deadline=_number(body, "deadline", 30.0, problems),
        attempt_timeout=_number(body, "attempt_timeout", 10.0, problems),
        max_attempts=_number(body, "max_attempts", None, problems),
        retries=_number(body, "retries", 0, problems),
        retry_backoff=_number(body, "retry_backoff", 0.1, problems),
        retry_budget_ratio=ratio,
        retry_budget_min_per_second=floor,
        when_all_down=_choice(body, "when_all_down", ALL_DOWN, "fail", problems),
        hedge_delay=_number(body, "hedge_delay", None, problems),
        fallback_after_ambiguous=_choice(
            body, "fallback_after_ambiguous", AFTER_AMBIGUOUS, "never", problems
        ),
        stall_calls=_number(body, "stall_calls", 5, problems),
        stall_factor=_number(body, "stall_factor", 4.0, problems),
        on_error=_on_error(body.get("on_error"), problems),
    )
    return policy, problems


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
        on_error=_on_error(reserved.get("on_error"), problems),
        wait_for_limits=wait,
    )
    return policy, problems
