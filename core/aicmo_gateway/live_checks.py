"""A provider's live ``check()``, run within a timeout, as a ``CheckResult``.

``Gateway.check()`` runs one per configured provider, concurrently. A plain ``def check``
runs in a worker thread; what it raises is scrubbed of the provider's secrets.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from aicmo_gateway.engine.slot import ProviderSlot

__all__ = ["CheckResult", "check_provider"]


@attrs.frozen
class CheckResult:
    """The result of one provider's live ``check()``."""

    capability: str
    provider: str
    provider_type: str
    ok: bool
    detail: str = ""
    duration: float = 0.0


async def check_provider(capability: str, slot: ProviderSlot, timeout: float) -> CheckResult:
    """Run ``slot``'s ``check()`` within ``timeout``; a provider without one passes."""
    check = getattr(slot.provider, "check", None)
    t0 = time.monotonic()
    if not callable(check):
        return CheckResult(capability, slot.name, slot.type.name, True, "no live check", 0.0)
    try:
        async with asyncio.timeout(timeout):
            if inspect.iscoroutinefunction(check):
                await check()
            else:
                result = await asyncio.to_thread(check)
                if inspect.isawaitable(result):
                    await result
    except TimeoutError:
        return CheckResult(
            capability,
            slot.name,
            slot.type.name,
            False,
            f"check did not finish within {timeout:g}s",
            time.monotonic() - t0,
        )
    except Exception as exc:
        detail = slot.scrub(f"{type(exc).__name__}: {exc}")
        return CheckResult(
            capability, slot.name, slot.type.name, False, detail, time.monotonic() - t0
        )
    return CheckResult(capability, slot.name, slot.type.name, True, "ok", time.monotonic() - t0)
