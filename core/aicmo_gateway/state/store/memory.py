"""The memory store: shared facts for the gateways of one process.

``[gateway] store = "memory"`` (the default) does not use it: a lone process's engine keeps
its facts in its own objects, with no store in the way. This backend exists for embedding
several gateways in one process and as the reference the contract tests hold the SQLite
and Redis stores to.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from aicmo_gateway.state.store.base import (
    Claim,
    FleetFacts,
    ProviderSpec,
    ProviderState,
    Verdict,
)
from aicmo_gateway.state.store.rules import Facts, failure, permit, success, to_fleet

__all__ = ["MemoryStore"]


class _Provider:
    def __init__(self, store: MemoryStore, name: str, spec: ProviderSpec) -> None:
        self.name = name
        self.spec = spec
        self._store = store

    async def permit(self) -> Verdict:
        return permit(self._store.facts_of(self.name), self.spec, self._store.clock())

    def succeeded(self) -> None:
        success(self._store.facts_of(self.name))

    def failed(
        self,
        *,
        counted: bool,
        cooldown: float | None = None,
        reason: str = "",
        open_for: float | None = None,
    ) -> None:
        facts = self._store.facts_of(self.name)
        failure(
            facts,
            self.spec,
            self._store.clock(),
            counted=counted,
            cooldown=cooldown,
            reason=reason,
            open_for=open_for,
        )

    async def flush(self) -> None:
        return None


class MemoryStore:
    kind = "memory"
    shown = "memory"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._facts: dict[str, Facts] = {}
        #: entry -> (owner or None, lease until, outcome or None, expires at)
        self._ledger: dict[str, tuple[str | None, float, str | None, float]] = {}

    def facts_of(self, name: str) -> Facts:
        facts = self._facts.get(name)
        if facts is None:
            facts = self._facts[name] = Facts()
        return facts

    def provider(self, name: str, spec: ProviderSpec) -> _Provider:
        return _Provider(self, name, spec)

    def _entry(self, entry: str, now: float) -> tuple[str | None, float, str | None, float] | None:
        found = self._ledger.get(entry)
        if found is not None and found[3] <= now:
            del self._ledger[entry]
            return None
        return found

    async def claim(
        self,
        entry: str,
        owner: str,
        lease: float,
        ttl: float,
        first: ProviderState | None = None,
    ) -> Claim:
        now = self.clock()
        found = self._entry(entry, now)
        if found is not None:
            holder, lease_until, outcome, _ = found
            if outcome is not None:
                return Claim("done", outcome)
            if holder == owner:
                return Claim("claimed")
            if lease_until > now:
                return Claim("busy", None, lease_until - now)
            self._ledger[entry] = (owner, now + lease, None, now + ttl)
            return Claim("stale")
        self._ledger[entry] = (owner, now + lease, None, now + ttl)
        return Claim("claimed")

    async def complete(self, entry: str, owner: str, outcome: str, ttl: float) -> None:
        now = self.clock()
        self._ledger[entry] = (None, 0.0, outcome, now + ttl)

    async def release(self, entry: str, owner: str) -> None:
        found = self._ledger.get(entry)
        if found is not None and found[0] == owner and found[2] is None:
            del self._ledger[entry]

    async def facts(self, names: Sequence[str]) -> dict[str, FleetFacts]:
        now = self.clock()
        return {name: to_fleet(name, self.facts_of(name), now) for name in names}

    def quota_counts(self, names: Sequence[str]) -> dict[str, dict[str, int]] | None:
        now = self.clock()
        return {name: to_fleet(name, self.facts_of(name), now).quota_used for name in names}

    async def flush(self) -> None:
        return None

    def state(self) -> dict[str, Any]:
        return {"store": self.shown, "kind": self.kind, "reachable": True}

    async def aclose(self) -> None:
        return None
