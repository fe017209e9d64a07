"""What ``Gateway.quotas()`` reports: each provider's quotas and how much of them is spent.

With the memory store the counts are this process's (``engine/limits``). With a shared store
they are the fleet's, read from the store in one query; a store that cannot answer leaves
this process's counts, marked as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aicmo_gateway.state.store import SharedState

if TYPE_CHECKING:
    from aicmo_gateway.engine.chain import Chain

__all__ = ["quota_rows"]


def quota_rows(chains: Mapping[str, Chain], store: SharedState | None) -> list[dict[str, Any]]:
    """One mapping per provider and quota period (see ``Gateway.quotas``)."""
    rows = [
        (capability, slot, quota, used, resets_in)
        for capability, chain in chains.items()
        for slot in chain.slots
        if slot.limits is not None
        for quota, used, resets_in in slot.limits.usage()
    ]
    fleet = None
    if store is not None and rows:
        names = list(dict.fromkeys(slot.name for _, slot, _, _, _ in rows))
        fleet = store.quota_counts(names)
    result = []
    for capability, slot, quota, used, resets_in in rows:
        if fleet is not None:
            # the fleet's count includes this process's calls, unless the store missed some
            # while it was unreachable: never less than what this process spent
            used = max(used, fleet.get(slot.name, {}).get(quota.period, 0))
        result.append(
            {
                "capability": capability,
                "provider": slot.name,
                "type": slot.type.name,
                "period": quota.period,
                "limit": quota.limit,
                "used": used,
                "remaining": max(0, quota.limit - used),
                "resets_in": resets_in,
                "scope": "process" if fleet is None else "fleet",
            }
        )
    return result
