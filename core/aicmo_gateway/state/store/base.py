"""What every shared-state backend offers the engine, and the records it answers with.

A store holds the facts a fleet of gateway processes must agree on, per provider instance:
the breaker as the fleet sees it (consecutive failures, open deadline, probe lease), the
cooldown a 429 asked for, rate and quota buckets; and the idempotency ledger (claims and
completed outcomes). The engine keeps its in-process objects as the fast local view and asks
the store only at the few points that need agreement: before an attempt
(:meth:`ProviderState.permit`), after it (:meth:`ProviderState.succeeded`,
:meth:`ProviderState.failed`), and around a write with a key (:meth:`SharedState.claim`,
:meth:`SharedState.complete`, :meth:`SharedState.release`).

No method raises because the store is unreachable: a backend that cannot reach its server
answers as if it held no shared facts (the local view decides) and says so in
:meth:`SharedState.state`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import attrs

__all__ = [
    "Claim",
    "FleetFacts",
    "ProviderSpec",
    "ProviderState",
    "SharedState",
    "Verdict",
]

#: a day: the TTL of a provider's facts, refreshed by every failure
FACTS_TTL = 86400.0


@attrs.frozen
class ProviderSpec:
    """What the store needs to know of one provider instance's rules.

    ``threshold``: failures in a row, across the fleet, that open its breaker (``None``: only
    trips a process publishes open it). ``rate``: (calls per second, burst) or ``None``.
    ``quotas``: (limit, period in seconds, period name) each.
    """

    threshold: int | None = 5
    open_seconds: float = 2.0
    open_multiplier: float = 2.0
    open_max_seconds: float | None = 5.0
    rate: tuple[float, float] | None = None
    quotas: tuple[tuple[int, float, str], ...] = ()
    #: how long one process's half-open probe holds off the others' probes
    probe_seconds: float = 10.0

    def open_period(self, trips: int) -> float:
        """Seconds the fleet's trip number ``trips`` stays open (as ``HealthPolicy`` does)."""
        try:
            period = self.open_seconds * self.open_multiplier ** max(trips - 1, 0)
        except OverflowError:
            period = math.inf
        return period if self.open_max_seconds is None else min(period, self.open_max_seconds)


class Verdict(NamedTuple):
    """The store's answer before an attempt.

    ``kind``: ``ok``, ``probe`` (allowed as the fleet's half-open probe), ``local`` (the store
    is unreachable: allowed, the local view decides), or why not: ``cooldown``, ``open``,
    ``half_open`` (another process probes), ``quota``, ``rate``.
    """

    ok: bool
    kind: str
    #: seconds until it may go (when refused)
    wait: float = 0.0
    reason: str | None = None
    #: failures in a row the fleet has counted (a success then resets them)
    fails: int = 0


OK = Verdict(True, "ok")
LOCAL = Verdict(True, "local")


class Claim(NamedTuple):
    """The ledger's answer to a claim on a key.

    ``state``: ``claimed`` (this caller performs it), ``done`` (``outcome`` holds the recorded
    outcome), ``busy`` (another live caller holds it for ``wait`` more seconds), ``stale``
    (a caller held it and stopped before finishing: this caller holds it now, and the write
    may have been performed), ``local`` (the store is unreachable: only the local ledger
    protects the key).
    """

    state: str
    outcome: str | None = None
    wait: float = 0.0


@attrs.frozen
class FleetFacts:
    """One provider's state as the fleet sees it (for ``aicmo-gateway status``)."""

    provider: str
    state: str  # closed, open, half_open, cooling
    consecutive_failures: int = 0
    trips: int = 0
    open_until: float | None = None  # wall-clock (epoch) seconds
    cooldown_until: float | None = None
    reason: str | None = None
    #: period name -> calls counted in the current window
    quota_used: dict[str, int] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class ProviderState(Protocol):
    """One provider instance's shared facts, as one process uses them."""

    name: str

    async def permit(self) -> Verdict:
        """Whether the fleet lets this process try the provider now; takes a rate token and
        a quota unit when it does."""
        ...

    def succeeded(self) -> None:
        """The attempt answered (sent without waiting; only when the fleet counted failures)."""

    def failed(
        self,
        *,
        counted: bool,
        cooldown: float | None = None,
        reason: str = "",
        open_for: float | None = None,
    ) -> None:
        """The attempt failed: ``counted`` toward the breaker; ``cooldown`` seconds asked by the
        provider (a 429); ``open_for``: this process's breaker just opened for that long.
        Sent without waiting; the next :meth:`permit` of this process waits for it."""

    async def flush(self) -> None:
        """Wait until every report this process sent has reached the store."""


class SharedState(Protocol):
    """A backend: memory, SQLite or Redis."""

    #: ``memory``, ``sqlite`` or ``redis``
    kind: str
    #: where it is, for people (passwords masked)
    shown: str

    def provider(self, name: str, spec: ProviderSpec) -> ProviderState: ...

    async def claim(
        self,
        entry: str,
        owner: str,
        lease: float,
        ttl: float,
        first: ProviderState | None = None,
    ) -> Claim:
        """Claim ``entry`` (capability, operation and key in one string) for ``lease`` seconds;
        a done entry is kept ``ttl`` seconds. ``first``: the provider the call will most
        likely try first; a networked store may take its permit in the same round trip."""
        ...

    async def complete(self, entry: str, owner: str, outcome: str, ttl: float) -> None:
        """Record the serialised outcome of ``entry`` for ``ttl`` seconds; the claim ends."""

    async def release(self, entry: str, owner: str) -> None:
        """End ``owner``'s claim without an outcome (the write was not performed)."""

    async def facts(self, names: Sequence[str]) -> dict[str, FleetFacts]:
        """The fleet's view of these providers."""
        ...

    def quota_counts(self, names: Sequence[str]) -> dict[str, dict[str, int]] | None:
        """Calls the fleet counted against each provider's quotas in their current periods
        (name -> period -> count), read synchronously for ``Gateway.quotas()``; ``None`` when
        the store cannot answer now (the caller shows its own counts)."""
        ...

    async def flush(self) -> None:
        """Wait until every update this process sent without waiting has landed."""

    def state(self) -> dict[str, Any]:
        """Whether the store is reachable, since when not, and the last error."""
        ...

    async def aclose(self) -> None: ...


def facts_state(
    now: float, fails: int, threshold: int | None, open_until: float, cool_until: float
) -> str:
    """The word ``status`` shows for a provider's fleet facts."""
    if cool_until > now:
        return "cooling"
    if open_until > now:
        return "open"
    if threshold is not None and threshold > 0 and fails >= threshold:
        return "half_open"
    return "closed"
