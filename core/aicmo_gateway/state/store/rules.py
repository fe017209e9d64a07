"""The shared facts' rules in Python, for the memory and SQLite stores (Redis runs the same
rules as Lua scripts in :mod:`aicmo_gateway.state.store.scripts`; the contract tests hold
them to one behaviour).

A provider's :class:`Facts` change only here: :func:`permit` before an attempt,
:func:`failure` and :func:`success` after it. Time is wall-clock seconds (epoch), the same
in every process of a host.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from aicmo_gateway.plugins.provider_type import PERIODS
from aicmo_gateway.state.store.base import FleetFacts, ProviderSpec, Verdict, facts_state

__all__ = ["Facts", "failure", "permit", "success", "to_fleet"]


@attrs.define
class Facts:
    """One provider's shared facts (stored as a JSON object by SQLite)."""

    fails: int = 0
    trips: int = 0
    open_until: float = 0.0
    open_reason: str = ""
    cool_until: float = 0.0
    cool_reason: str = ""
    probe_until: float = 0.0
    threshold: int = 0
    tokens: float | None = None
    stamp: float = 0.0
    #: period name -> [window number, calls counted in it]
    quotas: dict[str, list[int]] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        known = {a.name for a in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def permit(facts: Facts, spec: ProviderSpec, now: float) -> Verdict:
    """May one attempt go now? Takes a quota unit and a rate token when it may."""
    fails = facts.fails
    if facts.cool_until > now:
        return Verdict(False, "cooldown", facts.cool_until - now, facts.cool_reason, fails)
    if facts.open_until > now:
        return Verdict(False, "open", facts.open_until - now, facts.open_reason, fails)
    probe = False
    if spec.threshold and fails >= spec.threshold:
        if facts.probe_until > now:
            reason = "half-open: another process is probing it"
            return Verdict(False, "half_open", facts.probe_until - now, reason, fails)
        probe = True
    for limit, seconds, period in spec.quotas:
        window = math.floor(now / seconds)
        used = facts.quotas.get(period)
        count = used[1] if used is not None and used[0] == window else 0
        if count >= limit:
            reason = f"quota of {limit} per {period} used up"
            return Verdict(False, "quota", (window + 1) * seconds - now, reason, fails)
    tokens = None
    if spec.rate is not None:
        rate, burst = spec.rate
        tokens = burst if facts.tokens is None else facts.tokens
        tokens = min(burst, tokens + max(0.0, now - facts.stamp) * rate)
        if tokens < 1:
            return Verdict(False, "rate", (1 - tokens) / rate, f"rate limit of {rate:g}/s", fails)
        facts.tokens, facts.stamp = tokens - 1, now
    for _, seconds, period in spec.quotas:
        window = math.floor(now / seconds)
        used = facts.quotas.get(period)
        count = used[1] if used is not None and used[0] == window else 0
        facts.quotas[period] = [window, count + 1]
    if probe:
        facts.probe_until = now + spec.probe_seconds
        return Verdict(True, "probe", 0.0, None, fails)
    return Verdict(True, "ok", 0.0, None, fails)


def failure(
    facts: Facts,
    spec: ProviderSpec,
    now: float,
    *,
    counted: bool,
    cooldown: float | None,
    reason: str,
    open_for: float | None,
) -> None:
    """Record a failed attempt: a cooldown, a failure toward the fleet's breaker, a trip."""
    if cooldown is not None and now + cooldown > facts.cool_until:
        facts.cool_until, facts.cool_reason = now + cooldown, reason
    if not counted:
        return
    facts.fails += 1
    facts.threshold = spec.threshold or 0
    by_count = bool(spec.threshold) and facts.fails >= (spec.threshold or 0)
    if (by_count or open_for is not None) and facts.open_until <= now:
        facts.trips += 1
        if by_count or open_for is None:
            period = spec.open_period(facts.trips)
            plural = "s" if facts.fails != 1 else ""
            facts.open_reason = (
                f"{facts.fails} failure{plural} in a row across the fleet (last: {reason})"
            )
        else:
            period = open_for
            facts.open_reason = f"a process's breaker opened (last: {reason})"
        facts.open_until = now + period
        facts.probe_until = 0.0


def success(facts: Facts) -> None:
    """An attempt answered: the fleet's failures in a row end (a probe closes the breaker)."""
    facts.fails = 0
    facts.probe_until = 0.0


def to_fleet(name: str, facts: Facts, now: float) -> FleetFacts:
    state = facts_state(now, facts.fails, facts.threshold, facts.open_until, facts.cool_until)
    reason = None
    if state == "cooling":
        reason = facts.cool_reason
    elif state in ("open", "half_open"):
        reason = facts.open_reason
    used = {
        period: count
        for period, (window, count) in facts.quotas.items()
        if window == math.floor(now / PERIODS.get(period, 86400.0))
    }
    return FleetFacts(
        name,
        state,
        facts.fails,
        facts.trips,
        facts.open_until if facts.open_until > now else None,
        facts.cool_until if facts.cool_until > now else None,
        reason,
        used,
    )
