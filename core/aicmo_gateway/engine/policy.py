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

from aicmo_gateway.engine.classify import ERROR_NAMES, Reaction
from aicmo_gateway.engine.health import HealthPolicy
from aicmo_gateway.errors import ConfigError
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
ALL_DOWN = ("fail", "wait", "closest")
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

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
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
_DURATION_FIX = 'write a number of seconds or a string such as "500ms", "30s", "2m" or "1h"'


def parse_duration(value: Any) -> float:
    """``30``, ``"30s"``, ``"500ms"``, ``"2m"``, ``"1h"`` -> seconds. ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(value)
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2)]
    raise ValueError(value)


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
    #: within the deadline, or try the one "closest" to recovery anyway
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
    on_error: Mapping[str, Reaction] = attrs.field(factory=dict)


@attrs.frozen
class ProviderPolicy:
    """A provider instance's limits, health thresholds and error reactions."""

    rate_limit: RateLimit | None = None
    quotas: tuple[Quota, ...] = ()
    health: HealthPolicy = attrs.field(factory=HealthPolicy)
    on_error: Mapping[str, Reaction] = attrs.field(factory=dict)
    #: when the rate limit or a quota holds a call back: wait (within the call's deadline)
    #: instead of skipping to the next provider
    wait_for_limits: bool = False


def _on_error(raw: Any, problems: list[Problem]) -> dict[str, Reaction]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(
            (
                "on_error",
                "must be a table of error name = reaction",
                'write on_error = { Unavailable = "retry" }',
            )
        )
        return {}
    result: dict[str, Reaction] = {}
    for name, reaction in raw.items():
        if name not in ERROR_NAMES:
            problems.append(
                (
                    f"on_error.{name}",
                    "is not an error the chain reacts to",
                    f"use one of: {', '.join(ERROR_NAMES)}",
                )
            )
            continue
        try:
            result[name] = Reaction(reaction)
        except ValueError:
            problems.append(
                (
                    f"on_error.{name}",
                    f"{reaction!r} is not a reaction",
                    "use one of: " + ", ".join(r.value for r in Reaction),
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
    if value not in choices:
        problems.append(
            (key, f"{value!r} is not a valid {key}", f"use one of: {', '.join(choices)}")
        )
        return default
    return str(value)


def _duration(
    body: Mapping[str, Any],
    key: str,
    default: float | None,
    problems: list[Problem],
    *,
    allow_none: bool = True,
) -> float | None:
    if key not in body:
        return default
    raw = body[key]
    if allow_none and raw in ("none", "off"):
        return None
    try:
        return parse_duration(raw)
    except ValueError:
        problems.append((key, f"{raw!r} is not a duration", _DURATION_FIX))
        return default


def _count(
    body: Mapping[str, Any], key: str, default: int | None, problems: list[Problem]
) -> int | None:
    if key not in body:
        return default
    raw = body[key]
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        problems.append(
            (key, f"expected a whole number (0 or more), got {raw!r}", f"write {key} = 2")
        )
        return default
    return raw


def _factor(body: Mapping[str, Any], problems: list[Problem]) -> float:
    raw = body.get("stall_factor", 4.0)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 1:
        problems.append(
            (
                "stall_factor",
                f"expected a number of at least 1, got {raw!r}",
                "write stall_factor = 4 (times the provider's usual latency)",
            )
        )
        return 4.0
    return float(raw)


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
    budget = body.get("retry_budget", {})
    ratio, floor = 0.2, 1.0
    if not isinstance(budget, Mapping):
        problems.append(
            (
                "retry_budget",
                "must be a table",
                "write retry_budget = { ratio = 0.2, min_per_second = 1 }",
            )
        )
    else:
        for k in budget:
            if k not in ("ratio", "min_per_second"):
                problems.append(
                    (
                        f"retry_budget.{k}",
                        "is not a retry budget setting",
                        "the keys are ratio and min_per_second",
                    )
                )
        r, f = budget.get("ratio", ratio), budget.get("min_per_second", floor)
        if isinstance(r, bool) or not isinstance(r, int | float) or r < 0:
            problems.append(
                (
                    "retry_budget.ratio",
                    f"expected a number >= 0, got {r!r}",
                    "write ratio = 0.2 (retries per call)",
                )
            )
        else:
            ratio = float(r)
        if isinstance(f, bool) or not isinstance(f, int | float) or f < 0:
            problems.append(
                (
                    "retry_budget.min_per_second",
                    f"expected a number >= 0, got {f!r}",
                    "write min_per_second = 1",
                )
            )
        else:
            floor = float(f)
    max_attempts = _count(body, "max_attempts", None, problems)
    if max_attempts == 0:
        problems.append(("max_attempts", "0 would never try a provider", "write 1 or more"))
        max_attempts = None
    policy = ChainPolicy(
        strategy=strategy,
        order=_choice(body, "order", ORDERS, "config", problems),
        deadline=_duration(body, "deadline", 30.0, problems),
        attempt_timeout=_duration(body, "attempt_timeout", 10.0, problems),
        max_attempts=max_attempts,
        retries=_count(body, "retries", 0, problems) or 0,
        retry_backoff=_duration(body, "retry_backoff", 0.1, problems, allow_none=False) or 0.0,
        retry_budget_ratio=ratio,
        retry_budget_min_per_second=floor,
        when_all_down=_choice(body, "when_all_down", ALL_DOWN, "fail", problems),
        hedge_delay=_duration(body, "hedge_delay", None, problems),
        fallback_after_ambiguous=_choice(
            body, "fallback_after_ambiguous", AFTER_AMBIGUOUS, "never", problems
        ),
        stall_calls=None
        if body.get("stall_calls") == "off"
        else _count(body, "stall_calls", 5, problems),
        stall_factor=_factor(body, problems),
        on_error=_on_error(body.get("on_error"), problems),
    )
    return policy, problems


def _rate(raw: Any, problems: list[Problem]) -> RateLimit | None:
    fix = 'write rate_limit = "10/s" (or "/m", "/h", "/d"), or { per_second = 10, burst = 20 }'
    if isinstance(raw, str):
        match = _RATE.match(raw)
        if not match:
            problems.append(("rate_limit", f"{raw!r} is not a rate", fix))
            return None
        per_second = float(match.group(1)) / _RATE_UNITS[match.group(2)]
        if per_second <= 0:
            problems.append(("rate_limit", "must be more than zero", fix))
            return None
        return RateLimit(per_second=per_second, burst=max(1, int(float(match.group(1)))))
    if isinstance(raw, Mapping):
        try:
            return RateLimit(per_second=float(raw["per_second"]), burst=int(raw.get("burst", 1)))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(("rate_limit", f"is not a valid rate limit ({exc})", fix))
            return None
    problems.append(("rate_limit", f"expected a string or a table, got {raw!r}", fix))
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
    raw_quotas = dict(reserved.get("quotas") or {})
    if "daily_quota" in reserved:
        raw_quotas["day"] = reserved["daily_quota"]
    if "quotas" in reserved and not isinstance(reserved["quotas"], Mapping):
        problems.append(
            (
                "quotas",
                "must be a table of period = limit",
                "write quotas = { day = 500, hour = 100 }",
            )
        )
        raw_quotas = {}
    for period, limit in raw_quotas.items():
        key = "daily_quota" if period == "day" and "daily_quota" in reserved else f"quotas.{period}"
        if period not in PERIODS:
            problems.append(
                (key, f"{period!r} is not a period", f"use one of: {', '.join(PERIODS)}")
            )
        elif isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            problems.append(
                (key, f"expected a whole number (0 or more), got {limit!r}", f"write {key} = 500")
            )
        else:
            quotas[period] = Quota(limit=limit, period=period)
    raw_health = reserved.get("health", {})
    health = HealthPolicy()
    if not isinstance(raw_health, Mapping):
        problems.append(("health", "must be a table", "write [providers.<name>.health]"))
    else:
        try:
            health = HealthPolicy.from_config(raw_health)
        except ConfigError as exc:
            problems.extend((f"health.{p.key}", p.message, p.fix) for p in exc.problems)
    wait = reserved.get("wait_for_limits", False)
    if not isinstance(wait, bool):
        problems.append(
            (
                "wait_for_limits",
                f"expected true or false, got {wait!r}",
                "write wait_for_limits = true",
            )
        )
        wait = False
    policy = ProviderPolicy(
        rate_limit=rate,
        quotas=tuple(quotas.values()),
        health=health,
        on_error=_on_error(reserved.get("on_error"), problems),
        wait_for_limits=wait,
    )
    return policy, problems
