"""One provider's handle on the Redis store: permits before attempts, reports after them.

A permit is one Lua script (:data:`~aicmo_gateway.state.store.scripts.PERMIT`), unless one
was taken with a write's claim in the same round trip and is still fresh. Reports are sent
without waiting, each after the one before it; the next permit waits for them, so the
process's own failures are always counted before it asks again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aicmo_gateway.state.store import scripts
from aicmo_gateway.state.store.base import FACTS_TTL, LOCAL, ProviderSpec, Verdict

if TYPE_CHECKING:
    from aicmo_gateway.state.store.redis import RedisStore

__all__ = ["PREFETCH_FRESH", "RedisProvider"]

#: a permit taken with a claim is used by an attempt that starts within this many seconds
PREFETCH_FRESH = 1.0


def _num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class RedisProvider:
    """One provider's handle on the Redis store: its permits and its reports."""

    def __init__(self, store: RedisStore, name: str, spec: ProviderSpec) -> None:
        self.name = name
        self.spec = spec
        self.store = store
        self.key = f"{store.prefix}p:{name}"
        quota_args: list[str] = []
        for limit, seconds, period in spec.quotas:
            quota_args += [str(limit), repr(float(seconds)), period]
        rate, burst = spec.rate if spec.rate is not None else (0.0, 0.0)
        self.permit_args = [
            f"{store.prefix}q:{name}:",
            str(spec.threshold or 0),
            repr(float(spec.probe_seconds)),
            f"{rate:g}",
            repr(float(burst)),
            str(int(FACTS_TTL)),
            str(len(spec.quotas)),
            *quota_args,
        ]
        self._pending: asyncio.Task[Any] | None = None
        #: the fleet had failures in a row at the last permit: a success must reset them
        self._dirty = False
        #: a permit taken with a write's claim, in the same round trip, and when (loop time)
        self.prefetched: tuple[Verdict, float] | None = None

    async def permit(self) -> Verdict:
        prefetched = self.prefetched
        if prefetched is not None:
            self.prefetched = None
            verdict, at = prefetched
            if asyncio.get_running_loop().time() - at < PREFETCH_FRESH:
                return verdict
        await self.settled()
        reply = await self.store.run(scripts.PERMIT, [self.key], self.permit_args)
        if reply is None:
            return LOCAL
        return self.verdict(reply)

    def verdict(self, reply: list[Any]) -> Verdict:
        kind, wait, reason, fails = reply
        fails = int(fails)
        self._dirty = fails > 0
        if kind in ("ok", "probe"):
            return Verdict(True, kind, 0.0, None, fails)
        return Verdict(False, kind, max(float(wait), 0.0), reason or None, fails)

    async def settled(self) -> None:
        """Wait for this process's reports on the provider (its own failures count first)."""
        pending = self._pending
        if pending is not None:
            self._pending = None
            if not pending.done() and pending.get_loop() is asyncio.get_running_loop():
                await asyncio.wait([pending])  # never cancels the report itself

    def succeeded(self) -> None:
        if self._dirty:
            self._dirty = False
            self._send(scripts.SUCCESS, [])

    def failed(
        self,
        *,
        counted: bool,
        cooldown: float | None = None,
        reason: str = "",
        open_for: float | None = None,
    ) -> None:
        spec = self.spec
        self._send(
            scripts.FAILURE,
            [
                "1" if counted else "0",
                _num(cooldown),
                reason[:300],
                _num(open_for),
                str(spec.threshold or 0),
                repr(float(spec.open_seconds)),
                repr(float(spec.open_multiplier)),
                _num(spec.open_max_seconds),
                str(int(FACTS_TTL)),
            ],
        )

    def _send(self, script: str, args: list[str]) -> None:
        self._pending = self.store.spawn(self._after(self._pending, script, args))

    async def _after(
        self, previous: asyncio.Task[Any] | None, script: str, args: list[str]
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        await self.store.run(script, [self.key], args)

    async def flush(self) -> None:
        pending = self._pending
        if (
            pending is not None
            and not pending.done()
            and pending.get_loop() is asyncio.get_running_loop()
        ):
            await asyncio.wait([pending])
