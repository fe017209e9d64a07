"""When a chain may serve again: the moment a deferred write is due.

The outbox asks this when it stores a write no provider performed, and when a replay finds
every provider still unavailable: the row's next attempt is the earliest moment one
provider of its chain may take a call (its breaker half-opens, a 429's cooldown or a
``QuotaExhausted`` reset ends, its quota window or rate limit frees a call), not a blind
backoff. With a shared store the fleet's facts count too (a cooldown or a quota another
process saw), read once per deferred write; this is never on a successful call's path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aicmo_gateway.engine.fleet import spec_for
from aicmo_gateway.state.store import FleetFacts, ProviderSpec

if TYPE_CHECKING:
    from aicmo_gateway.engine.chain import Chain
    from aicmo_gateway.engine.slot import ProviderSlot

__all__ = ["fleet_wait", "local_wait", "recovery"]


def local_wait(slot: ProviderSlot) -> float:
    """Seconds until this process's view lets ``slot`` take a call (0: now; ``inf``: only a
    probe in flight settling frees it)."""
    wait = slot.health.time_until_available()
    if wait > 0 and slot.health.demoted():
        wait = 0.0  # slow, not failing: tried as a last resort when nobody else can
    if slot.limits is not None:
        wait = max(wait, slot.limits.wait_time()[0])
    return wait


def fleet_wait(facts: FleetFacts, spec: ProviderSpec, now: float) -> float:
    """Seconds until the fleet's facts let the provider take a call (0: now)."""
    waits = [0.0]
    for until in (facts.open_until, facts.cooldown_until):
        if until is not None:
            waits.append(until - now)
    for limit, seconds, period in spec.quotas:
        if facts.quota_used.get(period, 0) >= limit:
            waits.append((math.floor(now / seconds) + 1) * seconds - now)
    return max(waits)


async def recovery(chain: Chain) -> tuple[float, str | None]:
    """Seconds until the first provider of ``chain`` may take a call, and its name.

    ``(0.0, name)``: one may now. ``(inf, None)``: no known deadline frees any (a probe in
    flight everywhere). A shared store that cannot be read leaves the local view to decide.
    """
    waits = {slot.name: local_wait(slot) for slot in chain.slots}
    if chain.shared is not None and any(w < math.inf for w in waits.values()):
        try:
            facts: Mapping[str, FleetFacts] = await chain.shared.facts(list(waits))
        except Exception:  # unreachable: the local view decides, as on the hot path
            facts = {}
        now = time.time()
        for slot in chain.slots:
            found = facts.get(slot.name)
            if found is not None:
                waits[slot.name] = max(waits[slot.name], fleet_wait(found, _spec(slot), now))
    if not waits:
        return math.inf, None
    name = min(waits, key=lambda n: waits[n])
    wait = waits[name]
    return wait, (name if wait < math.inf else None)


def _spec(slot: ProviderSlot) -> ProviderSpec:
    spec = getattr(slot.shared, "spec", None)
    return spec if isinstance(spec, ProviderSpec) else spec_for(slot.policy)
