"""A capability's chain policy: how its chain orders, times, retries and falls back.

Parsed from ``[capabilities.<name>]``; the parser returns the policy and a list of
``(key, message, fix)`` problems so the config loader can report them all. A provider's own
policy (limits, health thresholds, error reactions) is
:mod:`aicmo_gateway.engine.provider_policy`'s, and both read ``on_error`` with
:mod:`aicmo_gateway.engine.on_error`; their names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aicmo_gateway.config_values import (
    MAX_SECONDS,
    BadValue,
    Range,
    key_part,
    parse_duration,
    read_number,
    shown,
)
from aicmo_gateway.engine.on_error import Problem, read_on_error
from aicmo_gateway.engine.provider_policy import (
    LIMIT_RANGES,
    PROVIDER_POLICY_KEYS,
    ProviderPolicy,
    parse_provider_policy,
)
from aicmo_gateway.outcome import Action

__all__ = [
    "CAPABILITY_KEYS",
    "CHAIN_RANGES",
    "LIMIT_RANGES",
    "PROVIDER_POLICY_KEYS",
    "STRATEGIES",
    "ChainPolicy",
    "ProviderPolicy",
    "parse_chain_policy",
    "parse_duration",
    "parse_provider_policy",
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
        on_error=read_on_error(body.get("on_error"), problems),
    )
    return policy, problems
