"""The Redis store: shared facts and the ledger for a fleet of processes on several hosts.

``store = "redis://host:6379/0"`` (``rediss://`` for TLS), with redis-py's asyncio client
(the core's ``redis`` extra, see :mod:`aicmo_gateway.state.store.redis_client`). Every key is
namespaced by ``[gateway] name`` (``aicmo:<name>:...``) and has a TTL. Each question is one Lua
script (:mod:`aicmo_gateway.state.store.scripts`), so an attempt costs one round trip: the
permit. Reports after an attempt are sent without waiting; the process's next permit for the
same provider waits for them, so its own reports are always counted before it asks again
(:mod:`aicmo_gateway.state.store.redis_provider`).

Redis down is not an outage: a command that fails (connection refused or cut, timeout)
marks the store unreachable with one warning; from then on every question is answered at
once from nothing (the local view decides) while a reconnection is tried in the background
with backoff; when Redis answers again, sharing resumes by itself.
"""

from __future__ import annotations

import asyncio
import math
import threading
import weakref
from collections.abc import Coroutine, Sequence
from typing import Any

from aicmo_gateway.state.outbox.backend import redact_url
from aicmo_gateway.state.store import scripts
from aicmo_gateway.state.store.base import Claim, FleetFacts, ProviderSpec, ProviderState
from aicmo_gateway.state.store.reach import Reach
from aicmo_gateway.state.store.redis_client import LoopClient, require_redis
from aicmo_gateway.state.store.redis_provider import RedisProvider
from aicmo_gateway.state.store.rules import Facts, to_fleet

__all__ = ["RedisStore", "require_redis"]


class RedisStore:
    kind = "redis"

    def __init__(self, url: str, namespace: str = "aicmo-gateway", *, timeout: float = 0.5) -> None:
        require_redis()
        self.url = url
        self.namespace = namespace
        self.prefix = f"aicmo:{namespace}:"
        self.shown = redact_url(url)
        self.timeout = timeout
        self.reach = Reach(self.shown)
        #: one client per event loop (a gateway may serve the synchronous facade's loop and
        #: the application's): its connections belong to that loop
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopClient] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        #: each provider's quotas (period, seconds), for :meth:`quota_counts`
        self._quotas: dict[str, list[tuple[str, float]]] = {}
        #: a blocking client for :meth:`quota_counts`, made on first use
        self._blocking: Any = None
        self._blocking_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisStore({self.shown!r}, namespace={self.namespace!r})"

    # -- the connection --------------------------------------------------------------

    def _connection(self) -> LoopClient:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            client = aioredis.Redis.from_url(
                self.url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
                decode_responses=True,
            )
            found = self._clients[loop] = LoopClient(client)
        return found

    async def run(self, text: str, keys: list[str], args: list[str]) -> Any:
        """Run one script; ``None`` when Redis cannot be reached (never raises for that)."""
        if not self.reach.up:
            if self.reach.due():
                self.spawn(self._reconnect())
            return None
        try:
            found = self._connection()
            return await found.script(text)(keys=keys, args=args, client=found.client)
        except Exception as exc:  # unreachable, timed out, or refused: calls go on locally
            if isinstance(exc, asyncio.CancelledError):  # pragma: no cover - not an Exception
                raise
            self.reach.lost(exc)
            return None

    async def _reconnect(self) -> None:
        try:
            client = self._connection().client
            # connections kept from before the outage may be dead (reset, half-closed): a
            # fresh one is made for the ping and for what follows
            await client.connection_pool.disconnect()
            await client.ping()
        except Exception as exc:
            self.reach.lost(exc)
            return
        self.reach.back()

    def spawn(self, job: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- shared facts ----------------------------------------------------------------

    def provider(self, name: str, spec: ProviderSpec) -> RedisProvider:
        self._quotas[name] = [(period, seconds) for _, seconds, period in spec.quotas]
        return RedisProvider(self, name, spec)

    def quota_counts(self, names: Sequence[str]) -> dict[str, dict[str, int]] | None:
        """One script on a blocking connection (``Gateway.quotas()`` is synchronous, and
        is read from a metrics scrape's thread as well as from the loop); ``None`` at once
        while Redis is known to be unreachable, or when it does not answer within the
        store's timeout."""
        pairs = [
            (name, period, seconds)
            for name in names
            for period, seconds in self._quotas.get(name, ())
        ]
        found: dict[str, dict[str, int]] = {name: {} for name in names}
        if not pairs:
            return found
        if not self.reach.up:
            return None
        args: list[str] = []
        for name, period, seconds in pairs:
            args += [f"{self.prefix}q:{name}:{period}:", repr(float(seconds))]
        try:
            with self._blocking_lock:
                if self._blocking is None:
                    import redis

                    client = redis.Redis.from_url(
                        self.url,
                        socket_timeout=self.timeout,
                        socket_connect_timeout=self.timeout,
                        decode_responses=True,
                    )
                    self._blocking = (client, client.register_script(scripts.QUOTA_COUNTS))
                counts = self._blocking[1](keys=[], args=args)  # EVALSHA, EVAL the first time
        except Exception:  # unreachable or timed out: the caller shows its own counts
            return None
        for (name, period, _), count in zip(pairs, counts, strict=True):
            if int(count) > 0:  # as the other stores: a period nothing was counted in is absent
                found[name][period] = int(count)
        return found

    async def facts(self, names: Sequence[str]) -> dict[str, FleetFacts]:
        """The fleet's view of these providers (raises when Redis cannot be reached: the
        ``status`` command reports that)."""
        client = self._connection().client
        seconds, micros = await client.time()
        now = seconds + micros / 1e6
        found: dict[str, FleetFacts] = {}
        for name in names:
            data = await client.hgetall(f"{self.prefix}p:{name}")
            facts = Facts(
                fails=int(data.get("fails", 0)),
                trips=int(data.get("trips", 0)),
                open_until=float(data.get("open_until", 0)),
                open_reason=data.get("open_reason", ""),
                cool_until=float(data.get("cool_until", 0)),
                cool_reason=data.get("cool_reason", ""),
                probe_until=float(data.get("probe_until", 0)),
                threshold=int(data.get("threshold", 0)),
            )
            async for key in client.scan_iter(match=f"{self.prefix}q:{name}:*", count=100):
                *_, period, window = key.split(":")
                count = int(await client.get(key) or 0)
                facts.quotas[period] = [int(window), count]
            found[name] = to_fleet(name, facts, now)
        return found

    # -- the ledger -------------------------------------------------------------------

    def _entry(self, entry: str) -> str:
        return f"{self.prefix}l:{entry}"

    async def claim(
        self,
        entry: str,
        owner: str,
        lease: float,
        ttl: float,
        first: ProviderState | None = None,
    ) -> Claim:
        """Claim ``entry``; with ``first`` (the provider the call will most likely try
        first), take its permit in the same round trip when the claim is this caller's: its
        next :meth:`RedisProvider.permit` then costs nothing."""
        terms = [owner, repr(float(lease)), str(math.ceil(ttl))]
        if isinstance(first, RedisProvider) and first.store is self:
            await first.settled()
            keys = [self._entry(entry), first.key]
            reply = await self.run(scripts.CLAIM_PERMIT, keys, terms + first.permit_args)
            if reply is not None and len(reply) > 3:
                first.prefetched = (
                    first.verdict(reply[3:]),
                    asyncio.get_running_loop().time(),
                )
        else:
            reply = await self.run(scripts.CLAIM, [self._entry(entry)], terms)
        if reply is None:
            return Claim("local")
        state, outcome, wait = reply[:3]
        return Claim(state, outcome or None, float(wait))

    async def complete(self, entry: str, owner: str, outcome: str, ttl: float) -> None:
        """Sent without waiting (the call's answer does not depend on it); a process that
        waits for this key sees it as soon as it lands."""
        self.spawn(self.run(scripts.COMPLETE, [self._entry(entry)], [outcome, str(math.ceil(ttl))]))

    async def release(self, entry: str, owner: str) -> None:
        self.spawn(self.run(scripts.RELEASE, [self._entry(entry)], [owner]))

    async def flush(self) -> None:
        """Wait until every report and ledger update sent so far has landed (or failed)."""
        loop = asyncio.get_running_loop()
        while True:
            tasks = [t for t in self._tasks if not t.done() and t.get_loop() is loop]
            if not tasks:
                return
            await asyncio.wait(tasks)

    # -- state and closing ------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return self.reach.state(self.kind)

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        tasks = [t for t in self._tasks if not t.done() and t.get_loop() is loop]
        if tasks:
            await asyncio.wait(tasks, timeout=2 * self.timeout + 1)
        left = [t for t in self._tasks if t.get_loop() is loop]
        for task in left:
            task.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)
        with self._blocking_lock:
            blocking, self._blocking = self._blocking, None
        if blocking is not None:
            blocking[0].close()
        clients, self._clients = dict(self._clients), weakref.WeakKeyDictionary()
        for owner, found in clients.items():
            if owner is loop:
                await found.client.aclose()
            elif owner.is_running() and not owner.is_closed():
                asyncio.run_coroutine_threadsafe(found.client.aclose(), owner)
