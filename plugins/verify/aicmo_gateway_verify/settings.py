"""``VerifySettings``: the config keys of the ``dns`` provider type, checked when it is built.

Cheap to import (no DNS library): discovery reads these fields to check a
configuration before any provider is built. Every refused value raises
``ValueError`` naming the key and the fix; the core reports it as a
configuration error.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

import attrs

__all__ = ["DEFAULT_PORT", "DEFAULT_TIMEOUT", "Nameserver", "VerifySettings"]

DEFAULT_PORT = 53
#: seconds; a verdict needs at most two lookups in a row (MX, then A and AAAA together),
#: so twice this stays below the chain's default attempt_timeout of 10 seconds
DEFAULT_TIMEOUT = 4.0

_EXAMPLES = '"192.0.2.53:53", "192.0.2.53" (port 53) or "[2001:db8::53]:53"'


@attrs.frozen
class Nameserver:
    """One nameserver to ask: an IP address and a UDP/TCP port."""

    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _problem(key: str, message: str) -> ValueError:
    return ValueError(f"{key}: {message}")


def parse_nameserver(entry: Any, key: str) -> Nameserver:
    """``"host:port"`` (or a bare IP address, port 53) as a :class:`Nameserver`."""
    if not isinstance(entry, str):
        raise _problem(
            key, f"expected a string such as {_EXAMPLES}, got {type(entry).__name__} {entry!r}"
        )
    text = entry.strip()
    host, port_text = text, None
    if text.startswith("["):  # [IPv6]:port or [IPv6]
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise _problem(key, f'{entry!r} is not "[IPv6 address]:port"; write {_EXAMPLES}')
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:  # IPv4:port or name:port
        host, port_text = text.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise _problem(
            key,
            f"{entry!r} does not start with an IP address; write {_EXAMPLES} (a host name "
            "cannot be used: it would need a resolver to find the resolver)",
        ) from None
    port = DEFAULT_PORT
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _problem(key, f"{entry!r} has no valid port; use a whole number from 1 to 65535")
        port = int(port_text)
    return Nameserver(str(address), port)


def _nameservers(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _problem(
            "nameservers",
            f"expected a list of strings such as [{_EXAMPLES.split(',')[0]}], got "
            f'{type(value).__name__} {value!r}; write nameservers = ["192.0.2.53:53"]',
        )
    if not value:
        raise _problem(
            "nameservers",
            'is empty; list at least one "host:port", or leave the key out to use the '
            "system resolver",
        )
    return tuple(str(parse_nameserver(entry, f"nameservers[{i}]")) for i, entry in enumerate(value))


def _check_timeout(_: Any, __: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _problem(
            "timeout", f"expected a number of seconds, got {type(value).__name__} {value!r}"
        )
    if not (value > 0 and math.isfinite(value)):
        raise _problem(
            "timeout", f"{value!r} must be a number of seconds above 0, e.g. timeout = 4"
        )


def _check_bool(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise _problem(attribute.name, f"expected true or false, got {value!r}")


@attrs.frozen(kw_only=True)
class VerifySettings:
    """The settings of one ``dns`` verifier instance."""

    #: nameservers to ask, as "host:port" with an IP address (kept in that canonical form);
    #: None: the system resolver
    nameservers: tuple[str, ...] | None = attrs.field(default=None, converter=_nameservers)
    #: seconds allowed for one DNS lookup (all its tries and nameservers together)
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT, validator=_check_timeout)
    #: look up the domain's mail servers; false checks syntax, disposable and role only
    check_mx: bool = attrs.field(default=True, validator=_check_bool)

    @property
    def servers(self) -> tuple[Nameserver, ...] | None:
        """The parsed nameservers, or None for the system resolver."""
        if self.nameservers is None:
            return None
        return tuple(parse_nameserver(entry, "nameservers") for entry in self.nameservers)
