"""The facade users hold: build chains from a config, call capabilities, check and observe."""

from __future__ import annotations

import asyncio
import inspect
import math
import os
from collections.abc import Mapping
from typing import Any

from loguru import logger

from aicmo_gateway.backends import close_now, open_outbox_backend, open_shared_store
from aicmo_gateway.compliance import Compliance
from aicmo_gateway.config.build import build_chains
from aicmo_gateway.config.load import GatewayConfig, find_config, load_config
from aicmo_gateway.engine.chain import Chain
from aicmo_gateway.engine.clock import wall_time
from aicmo_gateway.engine.recovery import recovery
from aicmo_gateway.engine.usage import quota_rows
from aicmo_gateway.errors import ConfigError, ConfigProblem, GatewayClosed, NotConfigured
from aicmo_gateway.facade import (
    CLIENTS,
    CLOSED,
    CrmSync,
    EmailSending,
    EmailVerification,
    LeadEnrichment,
    ReplyFetching,
    SocialPosting,
    WebhookDispatch,
)
from aicmo_gateway.live_checks import CheckResult, check_provider
from aicmo_gateway.outcome import CallRecord, Outcome
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.scrub import Scrubber
from aicmo_gateway.state.audit import AuditTrail, explain
from aicmo_gateway.state.files import StateFiles
from aicmo_gateway.state.health_rows import snapshot_to_json
from aicmo_gateway.state.outbox import Outbox
from aicmo_gateway.state.store import SharedState
from aicmo_gateway.state.suppression import open_store
from aicmo_gateway.suppression import Suppression
from aicmo_gateway.sync import SyncGateway

__all__ = ["CheckResult", "Gateway"]


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
        #: whether this gateway recorded a call (else closing leaves health.json as it was)
        self._state_written = False
        #: masks every configured secret (the providers' and the gateway's own)
        self._scrub: Scrubber | None = None
        self._closed = False
        #: writes no provider performed, kept for replay (``None`` without ``[gateway] outbox``)
        self.outbox: Outbox | None = None
        #: the store the fleet shares (``None`` with ``[gateway] store = "memory"``)
        self.store: SharedState | None = None
        for capability, client_cls in CLIENTS.items():
            types = ", ".join(pt.name for pt in registry.provider_types(capability)) or "none"
            hint = f"installed {capability} provider types: {types}"
            setattr(self, capability, client_cls(self.chains.get(capability), hint, config.dry_run))
        email = config.email
        store = open_store(email.suppression, email.base_dir) if email.suppression else None
        #: the addresses no message goes to: ``await gateway.suppression.add(...)``
        self.suppression = Suppression(store)
        compliance = Compliance(self.suppression, email)
        self.email_sending.compliance = compliance if compliance.active else None
        if self.suppression.configured and email.suppress_from_replies:
            from aicmo_gateway.feedback import ReplyFeedback

            self.reply_fetching.feedback = ReplyFeedback(self.suppression, email)

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
        return cls.from_loaded(load_config(source, env=env, registry=registry), registry)

    @classmethod
    def from_loaded(cls, config: GatewayConfig, registry: Registry) -> Gateway:
        """Build a gateway from a config already loaded (and checked) with ``registry``.

        For callers that adjust the loaded config first (``attrs.evolve``), as the lead
        pipeline does for a dry run.
        """
        audit = AuditTrail(config.audit_size)
        state = (
            StateFiles(
                config.state_dir,
                keep=config.audit_size,
                shown=config.references.get("state_dir"),
            )
            if config.state_dir
            else None
        )
        holder: list[Gateway] = []

        def notify(hook: str, **kwargs: Any) -> None:
            registry.notify(hook, scrub=holder[0]._scrub if holder else None, **kwargs)
            if state is not None and hook == "aicmo_call_finished" and holder:
                holder[0]._record_state(state, kwargs["call"])

        def observes(hook: str) -> bool:
            """Whether ``notify(hook, ...)`` reaches anyone (else the chain skips the call)."""
            return registry.observes(hook) or (state is not None and hook == "aicmo_call_finished")

        notify.observes = observes  # type: ignore[attr-defined]

        shared = open_shared_store(config)
        try:
            chains = build_chains(config, registry, audit, notify, shared)
        except BaseException:
            if shared is not None:
                close_now(shared)
            raise
        gateway = cls(config, registry, chains, audit)
        gateway.store = shared
        # values come from providers as is: no secret reaches the state files or the logs
        secrets = {
            s for chain in gateway.chains.values() for slot in chain.slots for s in slot.secrets
        }
        secrets.update(config.secret_values())
        gateway._scrub = Scrubber(sorted(secrets)) if secrets else None
        if state is not None:
            state.scrub = gateway._scrub
        gateway._state = state
        if config.outbox is not None:
            gateway._open_outbox(config)
        holder.append(gateway)
        return gateway

    def _open_outbox(self, config: GatewayConfig) -> None:
        assert config.outbox is not None
        # wall-clock seconds that move with the loop's clock (virtual under the test kit's
        # loop), so a row's due time and the breakers' recovery are on one time line
        self.outbox = Outbox(open_outbox_backend(config), config.outbox, clock=wall_time)
        self.outbox.bind(self._replay_one, self._resends_safely, self._recovery)
        for chain in self.chains.values():
            chain.on_write_end = self.outbox.on_write_end

    def _resends_safely(self, capability: str) -> bool:
        """Whether an interrupted row of ``capability`` may be sent again with its key."""
        chain = self.chains.get(capability)
        return chain is not None and chain.honours_idempotency

    async def _recovery(self, capability: str) -> tuple[float, str | None]:
        """Seconds until ``capability``'s chain may serve again, and which provider first."""
        chain = self.chains.get(capability)
        if chain is None:
            return math.inf, None
        return await recovery(chain)

    async def _replay_one(self, capability: str, operation: str, payload: Any, key: str) -> Outcome:
        if self._closed:
            raise GatewayClosed(CLOSED)
        chain = self.chains.get(capability)
        if chain is None:
            raise NotConfigured(f"{capability} has no providers configured any more")
        if self.config.dry_run:
            raise NotConfigured("the gateway is in dry-run mode: nothing is replayed")
        if capability == "email_sending" and operation == "send":
            # through the client, so the suppression list is consulted again: an address
            # that unsubscribed while the send waited is not mailed
            return await self.email_sending.send(payload, idempotency_key=key)
        return await chain.call(operation, payload, idempotency_key=key)

    def status(self) -> list[dict[str, Any]]:
        """Every configured provider's health, breaker state, cooldown, failure rate, latency."""
        return [
            snapshot_to_json(capability, slot.name, slot.type.name, slot.health.snapshot())
            for capability, chain in self.chains.items()
            for slot in chain.slots
        ]

    def quotas(self) -> list[dict[str, Any]]:
        """Every configured quota and how much of it is spent, one mapping per provider and period.

        Keys: ``capability``, ``provider``, ``type``, ``period`` (``second``, ``minute``,
        ``hour``, ``day``), ``limit``, ``used`` (calls spent in the current period),
        ``remaining``, ``resets_in`` (seconds until the period ends) and ``scope``. Providers
        without quotas have no row.

        With the memory store, spending is counted in this process (``scope`` is
        ``"process"``). With a shared store (SQLite, Redis) ``used`` is what the fleet
        counted, read from the store (one query; with Redis one round trip, bounded by the
        store's timeout), and ``scope`` is ``"fleet"``; while the store cannot answer it
        falls back to this process's counts, with ``scope`` ``"process"``.
        """
        return quota_rows(self.chains, self.store)

    def store_state(self) -> dict[str, Any] | None:
        """The shared store: where, whether it is reachable (``None`` with the memory store)."""
        return self.store.state() if self.store is not None else None

    async def fleet_status(self) -> list[dict[str, Any]]:
        """Every provider as the fleet sees it (the shared store's facts); raises
        :class:`NotConfigured` with the memory store."""
        if self.store is None:
            raise NotConfigured("fleet status needs a shared [gateway] store (sqlite or redis)")
        names = [slot.name for chain in self.chains.values() for slot in chain.slots]
        facts = await self.store.facts(list(dict.fromkeys(names)))
        return [
            {"capability": capability, "type": slot.type.name, **facts[slot.name].to_json()}
            for capability, chain in self.chains.items()
            for slot in chain.slots
        ]

    def _record_state(self, state: StateFiles, call: CallRecord) -> None:
        self._state_written = True
        try:
            state.append(call)
            state.write_health(self.status, store=self.store_state)
        except OSError as exc:  # the state folder is a convenience: never fail a call for it
            logger.warning("could not write state to {}: {}", state.shown, _why(exc))

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

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`aclose` has run: every later call raises :class:`GatewayClosed`."""
        return self._closed

    async def check(self, timeout: float = 10.0) -> list[CheckResult]:
        """Run every configured provider's ``check()`` concurrently, each within ``timeout``."""
        if self._closed:
            raise GatewayClosed(CLOSED)
        jobs = [(cap, slot) for cap, chain in self.chains.items() for slot in chain.slots]
        results = await asyncio.gather(*(check_provider(cap, slot, timeout) for cap, slot in jobs))
        return list(results)

    async def aclose(self) -> None:
        """Close every provider that has ``aclose()`` (or ``close()``); flush the state files.

        Later calls raise :class:`GatewayClosed`; closing again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        for capability in CLIENTS:
            getattr(self, capability).close()
        if self._state is not None and self._state_written:
            # a gateway that made no call (``doctor``, ``config check``) knows nothing newer
            # than the file: writing its fresh ``unknown`` rows would erase what workers learnt
            try:
                self._state.write_health(self.status, force=True, store=self.store_state)
            except OSError as exc:
                logger.warning("could not write state to {}: {}", self._state.shown, _why(exc))
        if self.outbox is not None:
            self.outbox.close()
        self.suppression.close()
        if self.store is not None:
            await self.store.aclose()
        for chain in self.chains.values():
            for slot in chain.slots:
                closer = getattr(slot.provider, "aclose", None) or getattr(
                    slot.provider, "close", None
                )
                if not callable(closer):
                    continue
                try:
                    result = closer()
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:  # close the others; the text may echo a secret
                    logger.warning(
                        "closing provider {} failed; ignored: {}",
                        slot.name,
                        slot.scrub(f"{type(exc).__name__}: {exc}"),
                    )

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def sync(self) -> SyncGateway:
        """The same API without ``await``, safe to call from several threads."""
        if self._closed:
            raise GatewayClosed(CLOSED)
        return SyncGateway(self)


def _why(exc: OSError) -> str:
    """An OSError in words, without the path it names (it may have come from ``${VAR}``)."""
    return f"{type(exc).__name__}: {exc.strerror or 'no reason given'}"
