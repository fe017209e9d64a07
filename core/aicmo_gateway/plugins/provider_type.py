"""``ProviderType``: the record a plugin hook returns for each provider it offers."""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

__all__ = ["Idempotency", "ProviderType", "Quota", "RateLimit", "SettingsSpec"]

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
#: a settings class named lazily: ``"package.module:Class"`` (``Class`` may be dotted)
_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


class Idempotency(enum.StrEnum):
    """How a provider de-duplicates a retried write, if at all."""

    NONE = "none"
    MESSAGE_ID = "message_id"  # the Message-ID header (mail servers and mailboxes)
    KEY_HEADER = "key_header"  # an Idempotency-Key / webhook-id header the service honours


def _positive_number(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    where = f"{type(instance).__name__}.{attribute.name}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{where}: expected a number, got {type(value).__name__}")
    if not value > 0:  # also refuses NaN
        raise ValueError(f"{where}: {value!r} must be greater than 0")


def _whole_number(minimum: int) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        where = f"{type(instance).__name__}.{attribute.name}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where}: expected a whole number, got {type(value).__name__}")
        if value < minimum:
            raise ValueError(f"{where}: {value!r} must be at least {minimum}")

    return check


def _period(_: Any, __: Any, value: Any) -> None:
    if value not in PERIODS:
        raise ValueError(
            f"Quota.period: {value!r} is not a period; use one of {', '.join(PERIODS)}"
        )


@attrs.frozen
class RateLimit:
    """A sustained rate (operations per second) with a burst allowance."""

    per_second: float = attrs.field(validator=_positive_number)
    burst: int = attrs.field(default=1, validator=_whole_number(1))


@attrs.frozen
class Quota:
    """At most ``limit`` operations per ``period`` (second, minute, hour or day)."""

    limit: int = attrs.field(validator=_whole_number(0))
    period: str = attrs.field(validator=_period)


def _check_name(_: Any, __: Any, value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"ProviderType.name: {value!r} is not a valid provider type name; use lower-case "
            "letters, digits, '_' or '-', starting with a letter (e.g. 'smtp', 'acme-mail')"
        )


def _check_factory(_: Any, __: Any, value: Any) -> None:
    if not callable(value):
        raise TypeError(
            f"ProviderType.factory: {value!r} is not callable; pass the provider class "
            "(or a function) that takes the settings as keyword arguments"
        )


def _idempotency(value: Idempotency | str) -> Idempotency:
    try:
        return Idempotency(value)
    except ValueError:
        raise ValueError(
            f"ProviderType.idempotency: {value!r} is not an idempotency kind; use one of "
            f"{', '.join(repr(item.value) for item in Idempotency)}"
        ) from None


def _check_rate_limit(_: Any, __: Any, value: Any) -> None:
    if value is not None and not isinstance(value, RateLimit):
        raise TypeError(
            f"ProviderType.rate_limit: expected a RateLimit, got {type(value).__name__}; "
            "pass e.g. RateLimit(per_second=10)"
        )


def _quotas(value: Quota | Iterable[Quota]) -> tuple[Quota, ...]:
    items = (value,) if isinstance(value, Quota) else tuple(value)
    for item in items:
        if not isinstance(item, Quota):
            raise TypeError(
                f"ProviderType.quotas: expected Quota records, got {type(item).__name__}; "
                "pass e.g. [Quota(limit=500, period='day')]"
            )
    return items


def _check_batch_size(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _whole_number(1)(instance, attribute, value)


def _check_min_attempt_timeout(_: Any, __: Any, value: Any) -> None:
    if value is None or callable(value):
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(
            f"ProviderType.min_attempt_timeout: {value!r} is not a number of seconds above 0; "
            "pass e.g. 120, or a function of the instance's settings that returns one"
        )


def _settings_of_factory(self: ProviderType) -> type | None:
    factory = self.factory
    return factory if isinstance(factory, type) and attrs.has(factory) else None


#: what ``ProviderType(settings=...)`` takes: the class, a ``"module:Class"`` reference or a
#: function of no arguments returning the class (both resolved when the settings are needed)
SettingsSpec = type | str | Callable[[], type] | None


def _check_settings(_: Any, __: Any, value: Any) -> None:
    if value is None or isinstance(value, type):
        return
    if isinstance(value, str):
        if not _REFERENCE.match(value):
            raise ValueError(
                f"ProviderType.settings: {value!r} is not a reference to a class; write "
                "'package.module:ClassName'"
            )
    elif not callable(value):
        raise TypeError(
            f"ProviderType.settings: expected a class, a 'package.module:ClassName' reference "
            f"or a function returning the class, got {type(value).__name__}"
        )


def _resolve_settings(name: str, spec: SettingsSpec) -> type | None:
    if spec is None or isinstance(spec, type):
        return spec
    try:
        if isinstance(spec, str):
            module, _, path = spec.partition(":")
            found: Any = importlib.import_module(module)
            for part in path.split("."):
                found = getattr(found, part)
        else:
            found = spec()
    except Exception as exc:
        from aicmo_gateway.errors import PluginError

        raise PluginError(
            f"provider type {name!r}: its settings class {spec!r} cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(found, type):
        from aicmo_gateway.errors import PluginError

        raise PluginError(
            f"provider type {name!r}: its settings {spec!r} gave {found!r}, not a class"
        )
    return found


def _factory_has_check(self: ProviderType) -> bool:
    return callable(getattr(self.factory, "check", None))


@attrs.frozen
class ProviderType:
    """A kind of provider a plugin offers for one port.

    ``factory`` is called with the provider instance's config table as keyword
    arguments and returns the provider. When ``settings`` is not given and the
    factory is an attrs class, its fields are the settings. ``settings`` may name
    the class lazily (``"package.module:Class"``, or a function of no arguments that
    returns it), so that discovery and ``aicmo-gateway plugins`` need not import it;
    the :attr:`settings` property gives the class, imported on first use.

    The port, plugin, distribution and version are filled in by discovery.
    """

    name: str = attrs.field(validator=_check_name)
    factory: Callable[..., Any] = attrs.field(validator=_check_factory)
    summary: str = ""
    #: the settings class, or a lazy reference to it (the ``settings`` argument, as given);
    #: left out: the factory itself when it is an attrs class
    _settings: SettingsSpec = attrs.field(
        default=attrs.Factory(_settings_of_factory, takes_self=True),
        validator=_check_settings,
        kw_only=True,
    )
    #: how many items one native batch call takes, if the service has batches
    batch_size: int | None = attrs.field(default=None, validator=_check_batch_size, kw_only=True)
    idempotency: Idempotency = attrs.field(
        default=Idempotency.NONE, converter=_idempotency, kw_only=True
    )
    rate_limit: RateLimit | None = attrs.field(
        default=None, validator=_check_rate_limit, kw_only=True
    )
    quotas: tuple[Quota, ...] = attrs.field(default=(), converter=_quotas, kw_only=True)
    #: whether providers of this type have a live ``check()``; left out: whether the factory has
    has_check: bool = attrs.field(
        default=attrs.Factory(_factory_has_check, takes_self=True), kw_only=True
    )
    #: breaks ties in ordering when config does not decide (higher first)
    priority: int = attrs.field(default=0, kw_only=True)
    #: the type performs nothing (a no-op): its answers are reported SIMULATED, never OK
    simulates: bool = attrs.field(default=False, kw_only=True)
    #: seconds one attempt needs at least (a service that is polled for its result): a
    #: number, or a function of an instance's checked settings (a mapping) returning one
    #: (or ``None``); a capability whose ``attempt_timeout`` or ``deadline`` is shorter
    #: gets a config warning naming the fix
    min_attempt_timeout: float | Callable[[Mapping[str, Any]], float | None] | None = attrs.field(
        default=None, validator=_check_min_attempt_timeout, kw_only=True
    )
    port: str | None = attrs.field(default=None, kw_only=True)
    plugin: str | None = attrs.field(default=None, kw_only=True)
    distribution: str | None = attrs.field(default=None, kw_only=True)
    version: str | None = attrs.field(default=None, kw_only=True)

    @property
    def settings(self) -> type | None:
        """The settings class (imported now if it was named lazily), or None."""
        return _resolve_settings(self.name, self._settings)

    @property
    def traits(self) -> dict[str, Any]:
        """The declared traits, as plain data (for ``providers --json``)."""
        return {
            "batch_size": self.batch_size,
            "idempotency": self.idempotency.value,
            "rate_limit": attrs.asdict(self.rate_limit) if self.rate_limit else None,
            "quotas": [attrs.asdict(q) for q in self.quotas],
            "has_check": bool(self.has_check),
            "priority": self.priority,
            "simulates": self.simulates,
            # seconds, or "from settings" when an instance's settings decide it
            "min_attempt_timeout": (
                "from settings" if callable(self.min_attempt_timeout) else self.min_attempt_timeout
            ),
        }
