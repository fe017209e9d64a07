"""The Redis store: shared facts and the ledger for a fleet of processes on several hosts.

``store = "redis://host:6379/0"`` (``rediss://`` for TLS), with redis-py's asyncio client
(the core's ``redis`` extra, see :func:`install_hint`). Every key is namespaced by
``[gateway] name`` (``aicmo:<name>:...``) and has a TTL. Each question is one Lua script
(:mod:`aicmo_gateway.state.store.scripts`), so an attempt costs one round trip: the permit.
Reports after an attempt are sent without waiting; the process's next permit for the same
provider waits for them, so its own reports are always counted before it asks again.

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

from aicmo_gateway.plugins.known import how_to_install
from aicmo_gateway.state.outbox.backend import redact_url
from aicmo_gateway.state.store import scripts
from aicmo_gateway.state.store.base import (
    FACTS_TTL,
    LOCAL,
    Claim,
    FleetFacts,
    ProviderSpec,
    ProviderState,
    Verdict,
)
from aicmo_gateway.state.store.reach import Reach
from aicmo_gateway.state.store.rules import Facts, to_fleet

__all__ = ["RedisStore", "require_redis"]


#: a permit taken with a claim is used by an attempt that starts within this many seconds
PREFETCH_FRESH = 1.0


def install_hint() -> str:
    """How to install the core's ``redis`` extra (from a checkout while it is not on PyPI)."""
    return how_to_install("aicmo-gateway", "redis") or "install redis-py (redis>=5.0)"


def require_redis() -> None:
    """Raise a clear ``ImportError`` naming the extra when redis-py is missing."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        raise ImportError(
            f"the Redis store needs redis-py, which is not installed: install the core's "
            f"redis extra {install_hint()}"
        ) from None


def _num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class _Provider:
    def __init__(self, store: RedisStore, name: str, spec: ProviderSpec) -> None:
        self.name = name
        self.spec = spec
        self._store = store
        self._key = f"{store.prefix}p:{name}"
        quota_args: list[str] = []
        for limit, seconds, period in spec.quotas:
            quota_args += [str(limit), repr(float(seconds)), period]
        rate, burst = spec.rate if spec.rate is not None else (0.0, 0.0)
        self._permit_args = [
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
        self._prefetched: tuple[Verdict, float] | None = None

    async def permit(self) -> Verdict:
        prefetched = self._prefetched
        if prefetched is not None:
            self._prefetched = None
            verdict, at = prefetched
            if asyncio.get_running_loop().time() - at < PREFETCH_FRESH:
                return verdict
        await self.settled()
        reply = await self._store.run(scripts.PERMIT, [self._key], self._permit_args)
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
        self._pending = self._store.spawn(self._after(self._pending, script, args))

    async def _after(
        self, previous: asyncio.Task[Any] | None, script: str, args: list[str]
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        await self._store.run(script, [self._key], args)

    async def flush(self) -> None:
        pending = self._pending
        if (
            pending is not None
            and not pending.done()
            and pending.get_loop() is asyncio.get_running_loop()
        ):
            await asyncio.wait([pending])


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
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Client] = (
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

    def _connection(self) -> _Client:
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
            found = self._clients[loop] = _Client(client)
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

    def provider(self, name: str, spec: ProviderSpec) -> _Provider:
        self._quotas[name] = [(period, seconds) for _, seconds, period in spec.quotas]
        return _Provider(self, name, spec)

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
        next :meth:`_Provider.permit` then costs nothing."""
        terms = [owner, repr(float(lease)), str(math.ceil(ttl))]
        if isinstance(first, _Provider) and first._store is self:
            await first.settled()
            keys = [self._entry(entry), first._key]
            reply = await self.run(scripts.CLAIM_PERMIT, keys, terms + first._permit_args)
            if reply is not None and len(reply) > 3:
                first._prefetched = (
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


class _Client:
    """A redis-py client of one event loop and the scripts registered on it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._scripts: dict[str, Any] = {}

    def script(self, text: str) -> Any:
        found = self._scripts.get(text)
        if found is None:
            found = self._scripts[text] = self.client.register_script(text)
        return found
