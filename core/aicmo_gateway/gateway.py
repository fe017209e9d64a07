"""The facade users hold: build chains from a config, call capabilities, sync or async."""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import threading
from collections.abc import Callable, Coroutine, Mapping
from email.utils import parseaddr
from typing import Any, TypeVar

import attrs
from loguru import logger

from aicmo_gateway.audit import AuditTrail, explain
from aicmo_gateway.budget import RetryBudget
from aicmo_gateway.chain import Chain
from aicmo_gateway.config import GatewayConfig, ProviderConfig, find_config, load_config
from aicmo_gateway.errors import ConfigError, ConfigProblem
from aicmo_gateway.facade import (
    CLIENTS,
    CrmSync,
    EmailSending,
    EmailVerification,
    LeadEnrichment,
    ReplyFetching,
    SocialPosting,
    WebhookDispatch,
)
from aicmo_gateway.ledger import MemoryLedger
from aicmo_gateway.outcome import CallRecord
from aicmo_gateway.plugins import Registry
from aicmo_gateway.policy import parse_provider_policy
from aicmo_gateway.ports import PORTS, EmailMessage, WebhookEvent
from aicmo_gateway.provider_type import Quota, RateLimit
from aicmo_gateway.secret import Secret
from aicmo_gateway.settings import check_settings, is_secret_key
from aicmo_gateway.slot import ProviderSlot, loop_time
from aicmo_gateway.statefiles import StateFiles, snapshot_to_json

__all__ = ["CheckResult", "Gateway", "SyncGateway"]

T = TypeVar("T")
_UNEXPECTED = re.compile(r"unexpected keyword argument '([^']+)'")
_MISSING = re.compile(r"missing \d+ required (?:keyword-only |positional )?arguments?: (.+)")


@attrs.frozen
class CheckResult:
    """The result of one provider's live ``check()``."""

    capability: str
    provider: str
    provider_type: str
    ok: bool
    detail: str = ""
    duration: float = 0.0


def _prepare(operation: str, payload: Any, key: str | None) -> Any:
    """Carry the idempotency key into the payload where the protocol has a place for it."""
    if key is None:
        return payload
    if isinstance(payload, EmailMessage) and payload.message_id is None:
        from aicmo_gateway.mime import message_id_for_key

        domain = parseaddr(payload.sender or "")[1].partition("@")[2] or "aicmo-gateway.local"
        return attrs.evolve(payload, message_id=message_id_for_key(key, domain))
    if isinstance(payload, WebhookEvent) and payload.id is None:
        return attrs.evolve(payload, id=key)
    return payload


class Gateway:
    """One attribute per capability, e.g. ``await gateway.email_sending.send(message)``."""

    email_sending: EmailSending
    reply_fetching: ReplyFetching
    crm_sync: CrmSync
    lead_enrichment: LeadEnrichment
    email_verification: EmailVerification
    social_posting: SocialPosting
    webhook_dispatch: WebhookDispatch

    def __init__(
        self,
        config: GatewayConfig,
        registry: Registry,
        chains: Mapping[str, Chain],
        audit: AuditTrail | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self.chains = dict(chains)
        self.audit = audit if audit is not None else AuditTrail(config.audit_size)
        self._state: StateFiles | None = None
        for capability, client_cls in CLIENTS.items():
            types = ", ".join(pt.name for pt in registry.provider_types(capability)) or "none"
            hint = f"installed {capability} provider types: {types}"
            setattr(self, capability, client_cls(self.chains.get(capability), hint, config.dry_run))

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        source: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        *,
        registry: Registry | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Gateway:
        """Build a gateway from a TOML file path or a mapping of the same shape.

        With no source, the file named by ``AICMO_GATEWAY_CONFIG`` or
        ``./aicmo-gateway.toml`` is used. Raises :class:`ConfigError` listing every
        problem, including settings a provider's factory refused.
        """
        env = os.environ if env is None else env
        registry = registry if registry is not None else Registry.discover(env=env)
        if source is None:
            found = find_config(env=env)
            if found is None:
                raise ConfigError(
                    [
                        ConfigProblem(
                            "aicmo-gateway.toml",
                            "",
                            "no configuration file found",
                            "create ./aicmo-gateway.toml, pass a path, or set AICMO_GATEWAY_CONFIG",
                        )
                    ]
                )
            source = found
        config = load_config(source, env=env, registry=registry)
        audit = AuditTrail(config.audit_size)
        state = StateFiles(config.state_dir, keep=config.audit_size) if config.state_dir else None
        holder: list[Gateway] = []

        def notify(hook: str, **kwargs: Any) -> None:
            registry.notify(hook, **kwargs)
            if state is not None and hook == "aicmo_call_finished" and holder:
                holder[0]._record_state(state, kwargs["call"])

        gateway = cls(config, registry, _build_chains(config, registry, audit, notify), audit)
        gateway._state = state
        holder.append(gateway)
        return gateway

    def status(self) -> list[dict[str, Any]]:
        """Every configured provider's health, breaker state, cooldown, failure rate, latency."""
        return [
            snapshot_to_json(capability, slot.name, slot.type.name, slot.health.snapshot())
            for capability, chain in self.chains.items()
            for slot in chain.slots
        ]

    def _record_state(self, state: StateFiles, call: CallRecord) -> None:
        try:
            state.append(call)
            state.write_health(self.status())
        except OSError as exc:  # the state folder is a convenience: never fail a call for it
            logger.warning("could not write state to {}: {}", state.directory, exc)

    def explain(self, call_id: str) -> str:
        """One recent call's decisions in words (from the bounded audit trail)."""
        record = self.audit.get(call_id)
        if record is None:
            raise KeyError(
                f"call {call_id} is not in the audit trail (it keeps the last "
                f"{self.audit.size} calls; raise [gateway] audit_size to keep more)"
            )
        return explain(record)

    # -- lifecycle ------------------------------------------------------------------

    async def check(self, timeout: float = 10.0) -> list[CheckResult]:
        """Run every configured provider's ``check()`` concurrently, each within ``timeout``."""
        jobs = [(cap, slot) for cap, chain in self.chains.items() for slot in chain.slots]
        results = await asyncio.gather(*(_check(cap, slot, timeout) for cap, slot in jobs))
        return list(results)

    async def aclose(self) -> None:
        """Close every provider that has ``aclose()`` (or ``close()``); flush the state files."""
        if self._state is not None:
            try:
                self._state.write_health(self.status(), force=True)
            except OSError as exc:
                logger.warning("could not write state to {}: {}", self._state.directory, exc)
        for chain in self.chains.values():
            for slot in chain.slots:
                closer = getattr(slot.provider, "aclose", None) or getattr(
                    slot.provider, "close", None
                )
                if callable(closer):
                    result = closer()
                    if inspect.isawaitable(result):
                        await result

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def sync(self) -> SyncGateway:
        """The same API without ``await``, safe to call from several threads."""
        return SyncGateway(self)


def _secrets_of(inst: ProviderConfig, settings: Mapping[str, Any]) -> tuple[str, ...]:
    found = []
    for key, value in settings.items():
        if isinstance(value, Secret):
            found.append(value.reveal())
        elif isinstance(value, str) and (key in inst.from_env or is_secret_key(key)):
            found.append(value)
    return tuple(v for v in found if len(v) >= 4)


def _build_chains(
    config: GatewayConfig,
    registry: Registry,
    audit: AuditTrail,
    notify: Callable[..., None] | None = None,
) -> dict[str, Chain]:
    problems: list[ConfigProblem] = []
    ledger = MemoryLedger()
    chains: dict[str, Chain] = {}
    for capability, cap in config.capabilities.items():
        spec = PORTS[capability]
        slots = []
        for name in cap.providers:
            inst = config.providers[name]
            key = f"providers.{name}"
            pt = registry.get(capability, inst.type)
            settings, _ = check_settings(pt.settings, dict(inst.settings), base=config.base_dir)
            try:
                provider = pt.factory(**settings)
            except TypeError as exc:
                problems.append(_factory_problem(config.source, key, inst, exc))
                continue
            except Exception as exc:  # a factory's own check of its settings, or a plugin bug
                problems.append(
                    ConfigProblem(
                        config.source,
                        key,
                        f"type {inst.type!r} refused its settings: {exc}",
                        f"correct the settings in [{key}]",
                    )
                )
                continue
            missing = [
                op.name
                for op in spec.single_operations
                if not callable(getattr(provider, op.name, None))
            ]
            if missing:
                problems.append(
                    ConfigProblem(
                        config.source,
                        key,
                        f"type {inst.type!r} from {pt.distribution} built an object without "
                        f"{', '.join(missing)}(), so it cannot serve {capability}",
                        f"report this to the maintainers of {pt.distribution}",
                    )
                )
                continue
            rate, quotas = _instance_limits(provider, pt)
            policy, policy_problems = parse_provider_policy(inst.reserved, rate, quotas)
            for suffix, message, fix in policy_problems:
                problems.append(ConfigProblem(config.source, f"{key}.{suffix}", message, fix))
            if policy_problems:
                continue
            budget = RetryBudget(
                cap.policy.retry_budget_ratio,
                cap.policy.retry_budget_min_per_second,
                clock=loop_time,
            )
            slots.append(
                ProviderSlot(name, pt, provider, _secrets_of(inst, settings), policy, budget=budget)
            )
        chains[capability] = Chain(
            spec,
            slots,
            policy=cap.policy,
            notify=notify or registry.notify,
            prepare=_prepare,
            ledger=ledger,
            audit=audit,
        )
    if problems:
        raise ConfigError(problems)
    return chains


def _instance_limits(provider: Any, pt: Any) -> tuple[RateLimit | None, tuple[Quota, ...]]:
    """The limits a provider instance reports (``provider.quotas``, ``provider.rate_limit``),
    e.g. from a preset, else its type's declared ones. Config keys override both."""
    quotas = getattr(provider, "quotas", None)
    rate = getattr(provider, "rate_limit", None)
    found_quotas = (
        tuple(quotas)
        if isinstance(quotas, tuple | list) and all(isinstance(q, Quota) for q in quotas)
        else pt.quotas
    )
    return (rate if isinstance(rate, RateLimit) else pt.rate_limit), found_quotas


def _factory_problem(source: str, key: str, inst: ProviderConfig, exc: TypeError) -> ConfigProblem:
    text = str(exc)
    unexpected = _UNEXPECTED.search(text)
    if unexpected:
        return ConfigProblem(
            source,
            f"{key}.{unexpected.group(1)}",
            f"is not a setting of type {inst.type!r}",
            "remove it (see the plugin's README for its settings)",
        )
    missing = _MISSING.search(text)
    if missing:
        names = missing.group(1).replace("'", "").replace(" and ", ", ")
        return ConfigProblem(
            source, f"{key}", f"type {inst.type!r} requires {names}", f"add {names} to [{key}]"
        )
    return ConfigProblem(
        source,
        key,
        f"type {inst.type!r} refused its settings: {text}",
        f"correct the settings in [{key}]",
    )


async def _check(capability: str, slot: ProviderSlot, timeout: float) -> CheckResult:
    import time

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
        detail = f"{type(exc).__name__}: {exc}"
        for secret in slot.secrets:
            detail = detail.replace(secret, "********")
        return CheckResult(
            capability, slot.name, slot.type.name, False, detail, time.monotonic() - t0
        )
    return CheckResult(capability, slot.name, slot.type.name, True, "ok", time.monotonic() - t0)


class _LoopThread:
    """An event loop running in a daemon thread, for the synchronous facade."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="aicmo-gateway-sync", daemon=True)
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            raise RuntimeError("the synchronous gateway cannot be called from its own loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class _SyncClient:
    def __init__(self, client: Any, runner: _LoopThread) -> None:
        self._client = client
        self._runner = runner

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)
        if not inspect.iscoroutinefunction(method):
            return method  # type: ignore[no-any-return]

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._runner.run(method(*args, **kwargs))

        call.__doc__ = method.__doc__
        return call


class SyncGateway:
    """``Gateway`` without ``await``: ``gateway.sync().email_sending.send(message)``.

    Calls run on a private event loop thread, so any number of threads may call
    at once. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._runner = _LoopThread()
        for capability in CLIENTS:
            setattr(self, capability, _SyncClient(getattr(gateway, capability), self._runner))

    def __getattr__(self, name: str) -> Any:  # capability attributes are set in __init__
        raise AttributeError(name)

    def check(self, timeout: float = 10.0) -> list[CheckResult]:
        return self._runner.run(self.gateway.check(timeout))

    def close(self) -> None:
        self._runner.run(self.gateway.aclose())
        self._runner.stop()

    def __enter__(self) -> SyncGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
