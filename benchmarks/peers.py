"""The peers: what a Python user would write instead of the chain.

- :class:`Composition`: tenacity ``AsyncRetrying`` (``stop_after_attempt(3)``,
  ``wait_random_exponential``) around an aiobreaker ``CircuitBreaker(fail_max=5,
  timeout_duration=30 s)`` around ``asyncio.timeout(10)``, per provider; primary, then the
  secondary (then the next) on any failure. It runs the same scenarios as our chain, on the
  same virtual clock: aiobreaker's ``datetime`` is pointed at the loop's clock
  (:func:`benchmarks.common.aiobreaker_virtual_time`); tenacity sleeps with ``asyncio.sleep``.
- LiteLLM's ``Router`` with ``fallbacks``, ``allowed_fails`` and ``cooldown_time`` over two
  custom (``CustomLLM``) deployments scripted like the fakes. Its cooldowns read
  ``time.time()``, so these runs are on the real clock (``run_litellm``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aicmo_gateway.errors import InvalidInput
from benchmarks.common import (
    BASE_LATENCY,
    CURRENT,
    OPERATIONS,
    PAYLOADS,
    Call,
    Caller,
    aiobreaker_virtual_time,
    burst,
    hard_down_figures,
    open_loop,
    sequential,
)

ATTEMPTS = 3  # tenacity stop_after_attempt
ATTEMPT_TIMEOUT = 10.0  # asyncio.timeout per attempt (our default attempt_timeout)
FAIL_MAX = 5  # aiobreaker
RESET = 30.0  # aiobreaker timeout_duration, seconds (our default open_seconds)


class Composition:
    """tenacity + aiobreaker + asyncio.timeout around each provider, providers in order."""

    label = "tenacity+aiobreaker+timeout"

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return aiobreaker_virtual_time()

    def build(self, capability: str, fakes: dict[str, Any], variant: dict[str, Any]) -> Caller:
        del variant  # the peer has no per-row settings: 3 attempts each is its default here
        return compose(fakes, OPERATIONS[capability], PAYLOADS[capability])


def compose(providers: dict[str, Any], operation: str, payload: Callable[[int], Any]) -> Caller:
    """The composition, written as a competent user would (see the module docstring)."""
    from aiobreaker import CircuitBreaker, CircuitBreakerError
    from tenacity import (
        AsyncRetrying,
        retry_if_not_exception_type,
        stop_after_attempt,
        wait_random_exponential,
    )

    breakers = {
        name: CircuitBreaker(fail_max=FAIL_MAX, timeout_duration=timedelta(seconds=RESET))
        for name in providers
    }

    async def attempt(provider: Any, item: Any) -> Any:
        async with asyncio.timeout(ATTEMPT_TIMEOUT):
            return await getattr(provider, operation)(item)

    async def on(name: str, provider: Any, item: Any) -> Any:
        async for retrying in AsyncRetrying(
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.1, max=2.0),
            retry=retry_if_not_exception_type((CircuitBreakerError, InvalidInput)),
            reraise=True,
        ):
            with retrying:
                return await breakers[name].call_async(attempt, provider, item)
        raise AssertionError("unreachable")  # pragma: no cover

    async def perform(item: Any, c: Call | None = None) -> tuple[str, Any]:
        """Primary, then the next provider on any failure; raises the last error."""
        last: Exception | None = None
        for name, provider in providers.items():
            try:
                return name, await on(name, provider, item)
            except CircuitBreakerError as exc:
                if c is not None and not c.attempts[name]:
                    c.skipped.add(name)
                last = exc
            except InvalidInput:
                raise
            except Exception as exc:
                last = exc
        assert last is not None
        raise last

    async def call(i: int, c: Call) -> None:
        try:
            c.served_by, _ = await perform(payload(i), c)
        except InvalidInput:
            raise
        except Exception as exc:
            c.status = f"failed ({type(exc).__name__})"
            return
        c.ok, c.status = True, "ok"

    call.perform = perform  # type: ignore[attr-defined]  # the bare call, for overhead.py
    return call


# -- LiteLLM ----------------------------------------------------------------------------------

LITELLM_COOLDOWN = 5.0  # LiteLLM's default cooldown_time, seconds
LITELLM_ALLOWED_FAILS = 3  # LiteLLM's default allowed_fails
MESSAGES = [{"role": "user", "content": "hi"}]


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
    import litellm

    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    return litellm


def _deployment(name: str, behaviour: Callable[[float], str | float], origin: list[float]) -> Any:
    """A CustomLLM deployment: ``behaviour(t)`` is "ok", "down", "429" or a latency (seconds)."""
    import httpx

    litellm = _litellm()

    class Scripted(litellm.CustomLLM):  # type: ignore[misc,name-defined]
        log: list[float]

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            now = asyncio.get_running_loop().time() - origin[0]
            self.log.append(now)
            current = CURRENT.get()
            if current is not None:
                current.attempts[name] += 1
            what = behaviour(now)
            if what == "down":
                raise litellm.ServiceUnavailableError(
                    message=f"{name}: down", llm_provider=name, model="m"
                )
            if what == "429":
                headers = {"retry-after": "20"}
                request = httpx.Request("POST", "https://fake.invalid/v1/chat/completions")
                raise litellm.RateLimitError(
                    message=f"{name}: too many requests",
                    llm_provider=name,
                    model="m",
                    response=httpx.Response(429, headers=headers, request=request),
                    headers=headers,
                )
            if isinstance(what, float) and what > 0:
                await asyncio.sleep(what)
            return litellm.ModelResponse(
                model="m", choices=[{"message": {"role": "assistant", "content": name}}]
            )

    deployment = Scripted()
    deployment.log = []
    return deployment


def litellm_router(
    primary: Callable[[float], str | float], secondary: Callable[[float], str | float]
) -> tuple[Any, dict[str, Any], list[float]]:
    """A Router over two scripted deployments, primary falling back to secondary."""
    litellm = _litellm()
    origin = [0.0]
    deps = {"primary": _deployment("primary", primary, origin)}
    deps["secondary"] = _deployment("secondary", secondary, origin)
    litellm.custom_provider_map = [
        {"provider": f"bench-{n}", "custom_handler": d} for n, d in deps.items()
    ]
    router = litellm.Router(
        model_list=[{"model_name": n, "litellm_params": {"model": f"bench-{n}/m"}} for n in deps],
        fallbacks=[{"primary": ["secondary"]}],
        allowed_fails=LITELLM_ALLOWED_FAILS,
        cooldown_time=LITELLM_COOLDOWN,
        num_retries=0,  # left unset, each failing call retried the primary with back-off
    )
    return router, deps, origin


def _router_caller(router: Any, deps: dict[str, Any]) -> Caller:
    async def call(i: int, c: Call) -> None:
        del i
        response = await router.acompletion(model="primary", messages=MESSAGES)
        c.ok, c.status = True, "ok"
        c.served_by = response.choices[0].message.content
        if not c.attempts["primary"]:
            c.skipped.add("primary")

    return call


def _rebase(calls: list[Call], origin: float) -> list[Call]:
    for c in calls:
        c.start, c.end = c.start - origin, c.end - origin
    return calls


async def _litellm_hard_down(down_for: float) -> dict[str, Any]:
    router, deps, origin = litellm_router(
        lambda t: "down" if t < down_for else BASE_LATENCY, lambda t: BASE_LATENCY
    )
    origin[0] = asyncio.get_running_loop().time()
    calls = _rebase(
        await open_loop(_router_caller(router, deps), duration=down_for + 2 * LITELLM_COOLDOWN),
        origin[0],
    )
    times = deps["primary"].log
    return hard_down_figures(calls, times, down_for)


async def _litellm_half_open(callers: int = 50) -> dict[str, Any]:
    router, deps, origin = litellm_router(
        lambda t: "down" if t < 1.0 else 0.5, lambda t: BASE_LATENCY
    )
    origin[0] = asyncio.get_running_loop().time()
    caller = _router_caller(router, deps)
    await sequential(caller, LITELLM_ALLOWED_FAILS + 2)
    await asyncio.sleep(LITELLM_COOLDOWN + 0.5)
    tripped = len(deps["primary"].log)
    rush = await burst(caller, callers, first=100)
    return {
        "callers": callers,
        "attempts_to_trip": tripped,
        "let_through": len(deps["primary"].log) - tripped,
        "served_by_primary": sum(c.served_by == "primary" for c in rush),
        "failures": sum(not c.ok for c in rush),
    }


async def _litellm_retry_after(window: float = 20.0) -> dict[str, Any]:
    router, deps, origin = litellm_router(
        lambda t: "429" if t < window else BASE_LATENCY, lambda t: BASE_LATENCY
    )
    origin[0] = asyncio.get_running_loop().time()
    calls = _rebase(await open_loop(_router_caller(router, deps), duration=window + 5.0), origin[0])
    times = deps["primary"].log
    t0 = times[0]
    back = min((c.start for c in calls if c.served_by == "primary"), default=None)
    return {
        "first_429_at_s": t0,
        "sent_inside_window": sum(t0 < t < t0 + window for t in times),
        "back_on_primary_after_window_s": None if back is None else back - (t0 + window),
        "failures": sum(not c.ok for c in calls),
    }


def run_litellm(*, down_for: float = 22.5) -> dict[str, Any]:
    """LiteLLM's Router on the scenarios it applies to, on the real clock, in one loop."""

    async def scenarios() -> dict[str, Any]:
        return {
            "hard_down": {f"{down_for:g}s": await _litellm_hard_down(down_for)},
            "half_open": await _litellm_half_open(),
            "retry_after": await _litellm_retry_after(),
        }

    return asyncio.run(scenarios())


if __name__ == "__main__":
    import json

    from benchmarks.scenarios import run_system

    print(json.dumps(run_system(Composition(), ours=False), indent=1, default=str))
    print(json.dumps(run_litellm(), indent=1, default=str))
