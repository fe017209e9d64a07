"""The SSRF guard: resolve a webhook's host once, and refuse addresses inside the network.

A webhook URL comes from configuration, but it often comes from a user of the product ("paste
your Zapier URL here"), so the gateway must not become a way to reach the machines next to it:
the metadata service of a cloud VM, a database on the private network, an admin port on
loopback. :func:`pin` resolves the host **once** and checks every address it gets; the request
then connects to the first of those addresses (never looking the name up again, so a DNS answer
that changes between the check and the connection, "DNS rebinding", cannot slip through).

:func:`blocked_reason` names why an address is refused: loopback, unspecified, link-local
(which holds 169.254.169.254), private, unique-local, multicast, reserved, shared
(carrier-grade NAT, where 100.100.100.200 lives) or otherwise not globally routable, and the
cloud metadata addresses by name. IPv6 forms that embed an IPv4 address (IPv4-mapped
``::ffff:a.b.c.d``, IPv4-compatible, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo) are
judged by the IPv4 address inside as well.

Standard library only; cheap to import.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

import attrs

from aicmo_gateway import AuthError, Unavailable

__all__ = ["METADATA_ADDRESSES", "Pinned", "Resolver", "blocked_reason", "pin", "system_resolver"]

#: a resolver: ``await resolver(host, port)`` -> the host's addresses (strings), in order
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: instance metadata services of cloud providers (most also fall in a blocked range)
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack, Oracle (v2)
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (v1)
    )
)

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, if it is one of the forms that route to it."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or (address.packed[:12] == bytes(12) and int(address) > 1):
        return ipaddress.IPv4Address(address.packed[12:])  # NAT64, or IPv4-compatible ::a.b.c.d
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    return None


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why the guard refuses ``address`` ("a loopback address", ...); None when it may be used."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped (link-local) address"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = blocked_reason(inner)
            if reason is not None:
                return f"{reason} ({inner} inside an IPv6 address)"
            if ip.ipv4_mapped is not None or ip.packed[:12] == bytes(12) or ip in _NAT64:
                return None  # these forms reach a.b.c.d itself (NAT64 through a translator)
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL, "a unique-local address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a shared (CGNAT) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "an address that is not globally routable"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system's resolver (``getaddrinfo``), in its order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@attrs.frozen
class Pinned:
    """Where one request goes: the ``address`` to connect to, for the URL's ``host``."""

    host: str
    address: str


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def pin(
    host: str, port: int, *, resolver: Resolver, allow_private: bool, provider: str
) -> Pinned:
    """Resolve ``host`` once and return the address to connect to; raise when it is refused.

    Every address of the answer is checked (an answer mixing a public and a private address
    is refused), and the first is used. An IP literal is not looked up. A name that does not
    resolve is ``Unavailable`` (nothing was sent); an address the guard refuses is an
    ``AuthError`` (the configuration must change: another URL, or ``allow_private = true``).
    """
    literal = _literal(host)
    if literal is not None:
        addresses: list[str] = [str(literal)]
    else:
        try:
            addresses = [str(a) for a in await resolver(host, port)]
        except (OSError, UnicodeError) as exc:
            raise Unavailable(
                f"{provider}: the endpoint's host name does not resolve "
                f"({type(exc).__name__}: {exc}); nothing was sent",
                provider=provider,
            ) from None
        if not addresses:
            raise Unavailable(
                f"{provider}: the endpoint's host name has no address; nothing was sent",
                provider=provider,
            )
    parsed: list[IPAddress] = []
    for text in addresses:
        ip = _literal(text)
        if ip is None:
            raise Unavailable(
                f"{provider}: the resolver answered {text!r}, which is not an IP address; "
                "nothing was sent",
                provider=provider,
            )
        parsed.append(ip)
    if not allow_private:
        for ip in parsed:
            reason = blocked_reason(ip)
            if reason is not None:
                raise AuthError(
                    f"{provider}: the endpoint's host resolves to {ip}, {reason}; webhooks "
                    "are not sent inside the network (SSRF guard). Use a public URL, or set "
                    "allow_private = true for an endpoint you trust on your own network",
                    provider=provider,
                )
    return Pinned(host=host, address=str(parsed[0]).split("%")[0])
