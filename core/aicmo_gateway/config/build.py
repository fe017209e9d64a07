"""Building chains from a validated config: providers from their factories, with policies."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from typing import Any

import attrs

from aicmo_gateway.config.load import GatewayConfig, ProviderConfig
from aicmo_gateway.config.settings import check_settings, is_secret_key
from aicmo_gateway.config_values import EnvText, hide_env_values
from aicmo_gateway.engine.budget import RetryBudget
from aicmo_gateway.engine.chain import Chain
from aicmo_gateway.engine.fleet import spec_for
from aicmo_gateway.engine.ledger import MemoryLedger
from aicmo_gateway.engine.provider_policy import ProviderPolicy
from aicmo_gateway.engine.slot import ProviderSlot, loop_time
from aicmo_gateway.errors import ConfigError, ConfigProblem
from aicmo_gateway.plugins.provider_type import Quota, RateLimit
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import PORTS, EmailMessage, WebhookEvent
from aicmo_gateway.secret import Secret
from aicmo_gateway.state.audit import AuditTrail
from aicmo_gateway.state.store import SharedState

__all__ = ["build_chains"]

_UNEXPECTED = re.compile(r"unexpected keyword argument '([^']+)'")
#: a settings class's refusal that starts with the key: "imap settings: port: ..." or "port: ..."
_NAMED = re.compile(r"^(?:[\w-]+ settings: )?([a-z][a-z0-9_]*): (.+)$", re.S)
_MISSING = re.compile(r"missing \d+ required (?:keyword-only |positional )?arguments?: (.+)")


def prepare_payload(operation: str, payload: Any, key: str | None) -> Any:
    """Carry the idempotency key into the payload where the protocol has a place for it."""
    if key is None or (type(payload) is EmailMessage and payload.message_id is not None):
        return payload  # (the common send: its Message-ID set, nothing to do)
    if isinstance(payload, EmailMessage) and payload.message_id is None:
        message_id = _message_id_for_key()(key, _domain_of(payload.sender))
        return _with(payload, "message_id", message_id)
    if isinstance(payload, WebhookEvent) and payload.id is None:
        return attrs.evolve(payload, id=key)
    return payload


@functools.cache
def _message_id_for_key() -> Callable[[str, str], str]:
    """:func:`aicmo_gateway.mime.message_id_for_key`, imported on the first send that needs
    it (the ``email`` package behind it is heavy), then held."""
    from aicmo_gateway.mime import message_id_for_key

    return message_id_for_key


@functools.lru_cache(maxsize=256)
def _domain_of(sender: str | None) -> str:
    """The Message-ID domain for a sender, parsed once per sender (a campaign has few)."""
    return parseaddr(sender or "")[1].partition("@")[2] or "aicmo-gateway.local"


def _with(record: Any, field: str, value: Any) -> Any:
    """A copy of a validated frozen record with one field set to an already valid value.

    ``attrs.evolve`` would check every field again (addresses, headers, bodies: hundreds of
    microseconds for a message); the copy is rebuilt through the record's own state protocol
    (attrs' ``__getstate__``/``__setstate__``, as pickle rebuilds it), keeping the checked
    values and setting only the new one.
    """
    state = record.__getstate__()
    state[field] = value
    cls: Any = type(record)
    clone = cls.__new__(cls)
    clone.__setstate__(state)
    return clone


def _secrets_of(inst: ProviderConfig, settings: Mapping[str, Any]) -> tuple[str, ...]:
    """Every secret value the provider holds, for scrubbing its error texts.

    A value is secret when it is typed :class:`Secret`, when it came from the environment
    (``${VAR}``: a username from the environment counts), or when its key looks secret
    (``password``, ``token``, ...); strings inside lists and tables count too. Values of
    fewer than four characters are left out (masking them would garble every text).
    """
    found: list[str] = []

    def collect(value: Any, secret: bool) -> None:
        if isinstance(value, Secret):
            found.append(value.reveal())
        elif isinstance(value, str):
            if secret:
                found.append(value)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                collect(item, secret or (isinstance(key, str) and is_secret_key(key)))
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                collect(item, secret)

    for source in (inst.settings, settings):
        for key, value in source.items():
            collect(value, key in inst.from_env or is_secret_key(key))
    return tuple(dict.fromkeys(v for v in found if len(v) >= 4))


def build_chains(
    config: GatewayConfig,
    registry: Registry,
    audit: AuditTrail,
    notify: Callable[..., None] | None = None,
    shared: SharedState | None = None,
) -> dict[str, Chain]:
    """One chain per configured capability; with ``shared`` (a store other than memory),
    every provider and the ledger consult it where the fleet must agree."""
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
            settings, settings_problems = _checked_settings(inst, capability, pt, config)
            if settings_problems:
                problems += settings_problems
                continue
            try:
                provider = pt.factory(**settings)
            except Exception as exc:  # a factory's own check of its settings, or a plugin bug
                names = set(settings) | _field_names(pt.settings)
                problems.append(_factory_problem(config.source, key, inst, settings, names, exc))
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
            policy = _with_limits(inst, *_instance_limits(provider, pt))
            budget = RetryBudget(
                cap.policy.retry_budget_ratio,
                cap.policy.retry_budget_min_per_second,
                clock=loop_time,
            )
            slot = ProviderSlot(
                name, pt, provider, _secrets_of(inst, settings), policy, budget=budget
            )
            if shared is not None:
                slot.shared = shared.provider(name, spec_for(policy))
            slots.append(slot)
        chains[capability] = Chain(
            spec,
            slots,
            policy=cap.policy,
            notify=notify or registry.notify,
            prepare=prepare_payload,
            ledger=ledger,
            audit=audit,
        )
        chains[capability].shared = shared
    if problems:
        raise ConfigError(problems)
    return chains


def _checked_settings(
    inst: ProviderConfig, capability: str, pt: Any, config: GatewayConfig
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """The instance's settings converted for its type, as checked when the file was loaded;
    checked now (once) when the file was loaded without this registry."""
    carried = inst.checked.get(capability)
    if carried is not None and carried[0] is pt.settings:
        return dict(carried[1]), []
    return check_settings(
        pt.settings,
        dict(inst.settings),
        base=config.base_dir,
        source=config.source,
        table=f"providers.{inst.name}",
        note=f" (type {inst.type!r})",
    )


def _with_limits(
    inst: ProviderConfig, rate: RateLimit | None, quotas: tuple[Quota, ...]
) -> ProviderPolicy:
    """The policy checked at load, with the instance's own limits where the file sets none.

    A ``rate_limit`` key replaces the instance's rate; ``quotas`` and ``daily_quota`` replace
    the instance's quota of the same period and keep the others.
    """
    policy = inst.policy
    if "rate_limit" not in inst.reserved and rate is not None:
        policy = attrs.evolve(policy, rate_limit=rate)
    if quotas:
        merged = {q.period: q for q in quotas} | {q.period: q for q in policy.quotas}
        policy = attrs.evolve(policy, quotas=tuple(merged.values()))
    return policy


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


def _field_names(cls: Any) -> set[str]:
    return (
        {f.name for f in attrs.fields(cls)} if isinstance(cls, type) and attrs.has(cls) else set()
    )


def _env_values(inst: ProviderConfig, settings: Mapping[str, Any]) -> list[tuple[Any, EnvText]]:
    """Each value the factory got from ``${VAR}``, paired with the text it came from."""
    pairs: list[tuple[Any, EnvText]] = []
    for key in inst.from_env:
        written, given = inst.settings.get(key), settings.get(key)
        if isinstance(given, Secret):
            given = given.reveal()
        if isinstance(written, EnvText):
            pairs.append((given, written))
        elif isinstance(written, list):
            pairs += [(item, item) for item in written if isinstance(item, EnvText)]
    return pairs


def _factory_problem(
    source: str,
    key: str,
    inst: ProviderConfig,
    settings: Mapping[str, Any],
    names: set[str],
    exc: Exception,
) -> ConfigProblem:
    """A factory's refusal as a config problem; values from the environment shown as written."""
    text = hide_env_values(str(exc), _env_values(inst, settings))
    for secret in _secrets_of(inst, settings):
        text = text.replace(secret, "********")
    unexpected = _UNEXPECTED.search(text) if isinstance(exc, TypeError) else None
    if unexpected:
        return ConfigProblem(
            source,
            f"{key}.{unexpected.group(1)}",
            f"is not a setting of type {inst.type!r}",
            "remove it (see the plugin's README for its settings)",
        )
    missing = _MISSING.search(text) if isinstance(exc, TypeError) else None
    if missing:
        required = missing.group(1).replace("'", "").replace(" and ", ", ")
        return ConfigProblem(
            source,
            f"{key}",
            f"type {inst.type!r} requires {required}",
            f"add {required} to [{key}]",
        )
    named = _NAMED.match(text)
    if named and named.group(1) in names:
        return ConfigProblem(
            source,
            f"{key}.{named.group(1)}",
            f"{named.group(2)} (type {inst.type!r})",
            f"correct {named.group(1)} in [{key}]",
        )
    return ConfigProblem(
        source,
        key,
        f"type {inst.type!r} refused its settings: {text}",
        f"correct the settings in [{key}]",
    )
