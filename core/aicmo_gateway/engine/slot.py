"""A provider instance in a chain, with its live state: health, limits, retry budget, latencies."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from aicmo_gateway.engine.budget import RetryBudget
from aicmo_gateway.engine.clock import loop_time, wall_time
from aicmo_gateway.engine.health import ProviderHealth
from aicmo_gateway.engine.limits import ProviderLimits
from aicmo_gateway.engine.provider_policy import ProviderPolicy
from aicmo_gateway.outcome import Action
from aicmo_gateway.plugins.provider_type import ProviderType
from aicmo_gateway.ports import Operation, ReplyBatch, Verdict, Verification
from aicmo_gateway.scrub import Scrubber
from aicmo_gateway.state.store import ProviderState

__all__ = ["ProviderSlot", "invoke", "is_empty", "loop_time", "performed", "wall_time"]


@attrs.define(eq=False, repr=False)
class ProviderSlot:
    """A configured provider instance in a chain.

    ``secrets`` are the provider's secret values; :meth:`scrub` removes them (and their
    usual encodings) from the provider's error texts. They never show in ``repr()``.
    """

    name: str
    type: ProviderType
    provider: Any
    #: secret values to remove from error texts
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)
    policy: ProviderPolicy = attrs.field(factory=ProviderPolicy)
    health: ProviderHealth = attrs.field(
        default=attrs.Factory(
            lambda self: ProviderHealth(self.policy.health, clock=loop_time, name=self.name),
            takes_self=True,
        )
    )
    limits: ProviderLimits | None = attrs.field(
        default=attrs.Factory(
            lambda self: (
                ProviderLimits(self.policy.rate_limit, self.policy.quotas, wall_time)
                if self.policy.rate_limit or self.policy.quotas
                else None
            ),
            takes_self=True,
        )
    )
    budget: RetryBudget = attrs.field(factory=lambda: RetryBudget(clock=loop_time))
    latencies: deque[float] = attrs.field(factory=lambda: deque(maxlen=512))
    #: loop time each attempt in flight started, by attempt number
    inflight: dict[int, float] = attrs.field(factory=dict)
    #: mean latency of successful attempts (exponentially weighted), seconds
    typical_latency: float | None = None
    #: this provider's facts in the shared store (``None`` with the memory store)
    shared: ProviderState | None = attrs.field(default=None, kw_only=True)
    _serial: int = 0
    #: the attempt number of the oldest attempt in flight (numbers grow by one per start,
    #: so it is the smallest key of ``inflight``); one past the last when none is in flight
    _oldest: int = attrs.field(
        default=attrs.Factory(lambda self: self._serial + 1, takes_self=True), init=False
    )
    #: successful latencies recorded so far, and the p99 with the count it was computed at
    _samples: int = 0
    _p99: tuple[int, float | None] = (-1, None)
    #: the scrubber and the secrets it was built for (rebuilt if ``secrets`` is replaced)
    _scrubber: tuple[tuple[str, ...], Scrubber] | None = attrs.field(default=None, init=False)
    #: the chain's on_error table merged with this provider's, and the table it was made for
    _on_error: tuple[Mapping[str, Action], Mapping[str, Action]] | None = attrs.field(
        default=None, init=False
    )

    def __repr__(self) -> str:
        return f"<ProviderSlot {self.name!r} ({self.type.name}) {self.health.snapshot().state}>"

    def started(self, now: float) -> int:
        serial = self._serial = self._serial + 1
        self.inflight[serial] = now
        return serial

    def finished(self, serial: int, latency: float | None = None, slow: bool = False) -> None:
        """An attempt ended; a successful one's latency feeds the typical latency unless slow."""
        inflight = self.inflight
        inflight.pop(serial, None)
        if serial == self._oldest:  # move on to the next attempt still in flight
            oldest, last = serial + 1, self._serial
            while oldest <= last and oldest not in inflight:
                oldest += 1
            self._oldest = oldest
        if latency is not None:
            self.latencies.append(latency)
            self._samples += 1
            if not slow:
                previous = self.typical_latency
                self.typical_latency = (
                    latency if previous is None else 0.8 * previous + 0.2 * latency
                )

    def stalled(self, now: float, calls: int | None, factor: float) -> str | None:
        """Why new calls should go elsewhere: many in flight, the oldest far longer than usual.

        Before the provider has answered at all, ``calls`` in flight is the limit (a slow
        start): a provider that never answers then takes ``calls`` calls, not a timeout's
        worth of traffic.
        """
        if calls is None or len(self.inflight) < max(calls, 1):
            return None
        if self.typical_latency is None:
            return f"{len(self.inflight)} calls in flight and none answered yet"
        limit = max(factor * self.typical_latency, 0.05)
        # attempts start in number order (one clock): the lowest number in flight is the
        # oldest (kept in ``_oldest``: the front of a dict with many deletions is slow to reach)
        oldest = now - self.inflight[self._oldest]
        if oldest <= limit:
            return None
        return (
            f"{len(self.inflight)} calls in flight, the oldest for {oldest:.2f}s "
            f"({factor:g}x its usual latency is {limit:.2f}s): no more until they finish"
        )

    def is_slow(self, duration: float, factor: float) -> bool:
        """Far slower than this provider usually is (the relative slow-call rule)."""
        typical = self.typical_latency
        return typical is not None and duration > max(factor * typical, 0.05)

    @property
    def honours_idempotency(self) -> bool:
        return self.type.idempotency.value != "none"

    def p99(self, minimum_samples: int = 20) -> float | None:
        """The 99th percentile of recent successful latencies, once there are enough.

        Recomputed after every 16 new samples, not on every call (hedge asks per call).
        """
        if len(self.latencies) < minimum_samples:
            return None
        computed_at, value = self._p99
        if value is None or self._samples - computed_at >= 16:
            ordered = sorted(self.latencies)
            value = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            self._p99 = (self._samples, value)
        return value

    def on_error_with(self, chain: Mapping[str, Action]) -> Mapping[str, Action]:
        """The chain's ``on_error`` table with this provider's entries on top (merged once)."""
        merged = self._on_error
        if merged is None or merged[0] is not chain:
            merged = self._on_error = (chain, {**chain, **self.policy.on_error})
        return merged[1]

    def scrub(self, text: str) -> str:
        """``text`` (from the provider) without this provider's secrets, in any usual encoding."""
        built = self._scrubber
        if built is None or built[0] is not self.secrets:
            built = self._scrubber = (self.secrets, Scrubber(self.secrets))
        return built[1](text)


@functools.lru_cache(maxsize=1024)
def _shape(function: Callable[..., Any]) -> tuple[bool, bool]:
    """(is a coroutine function, takes an ``idempotency_key`` keyword), looked up once."""
    try:
        takes_key = "idempotency_key" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        takes_key = False
    return inspect.iscoroutinefunction(function), takes_key


async def _call(method: Callable[..., Any], arg: Any, key: str | None = None) -> Any:
    """Call a port method, async or in a worker thread; pass the key if it takes one."""
    target = getattr(method, "__func__", method)
    try:
        is_async, takes_key = _shape(target)
    except TypeError:  # an unhashable callable
        is_async, takes_key = _shape.__wrapped__(target)
    kwargs = {"idempotency_key": key} if key is not None and takes_key else {}
    if is_async:
        return await method(arg, **kwargs)
    result = await asyncio.to_thread(method, arg, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


async def invoke(slot: ProviderSlot, op: Operation, payload: Any, key: str | None = None) -> Any:
    """Call the operation on the provider; batch operations use a native batch or map.

    A port method that declares an ``idempotency_key`` keyword receives the call's key.
    """
    if op.batch_of is None:
        method = getattr(slot.provider, op.name)
        target = getattr(method, "__func__", method)
        try:
            is_async, takes_key = _shape(target)
        except TypeError:  # an unhashable callable
            is_async, takes_key = _shape.__wrapped__(target)
        if is_async:  # the common case, awaited here without another coroutine
            if key is not None and takes_key:
                return await method(payload, idempotency_key=key)
            return await method(payload)
        return await _call(method, payload, key)
    native = getattr(slot.provider, op.name, None)
    items = list(payload)
    if callable(native):
        size = slot.type.batch_size or len(items) or 1
        results: list[Any] = []
        for i in range(0, len(items), size):
            results.extend(await _call(native, items[i : i + size]))
        return tuple(results)
    single = getattr(slot.provider, op.batch_of)
    return tuple([await _call(single, item) for item in items])


def performed(value: Any) -> bool:
    """Whether a result reports its work as really done (no-op providers say it was not)."""
    if isinstance(value, (list, tuple)):  # a tuple of types: faster than a union
        return all(performed(v) for v in value) if value else True
    return bool(getattr(value, "performed", True))


def is_empty(value: Any) -> bool:
    """An empty answer to a read: nothing found, no replies, an unknown verdict."""
    if isinstance(value, ReplyBatch):
        return len(value.replies) == 0
    if isinstance(value, Verification):
        return value.verdict is Verdict.UNKNOWN
    if isinstance(value, list | tuple):
        return all(is_empty(v) for v in value)
    empty = getattr(value, "empty", None)
    return bool(empty) if empty is not None else value is None
