"""Where mail for a domain goes, asked of DNS with dnspython's async resolver.

:func:`mail_route` answers with a :class:`Route`, one of:

- ``mx``: the domain publishes MX records (its mail servers, best first);
- ``implicit_mx``: no MX, but A or AAAA records: RFC 5321 section 5.1 makes the
  domain itself the mail server;
- ``null_mx``: a single MX of preference 0 and exchange ``.`` (RFC 7505): the
  domain says it accepts no mail;
- ``nxdomain``: the domain does not exist;
- ``no_mail_route``: the domain exists but has no MX, A or AAAA record;
- ``timeout``, ``servfail``, ``error``: DNS could not tell (no answer in time,
  every nameserver failed or refused, anything else). Never a verdict either way.

The first three are authoritative answers from DNS; the last three are not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import attrs
import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from dns.rdtypes.ANY.MX import MX

from aicmo_gateway_verify.settings import Nameserver

__all__ = ["UNSETTLED", "Route", "build_resolver", "mail_route"]

#: route kinds that mean DNS could not tell
UNSETTLED = frozenset({"timeout", "servfail", "error"})


@attrs.frozen
class Route:
    """What DNS says about a domain's mail servers."""

    kind: str
    #: the mail servers: MX exchanges best first, or the domain itself for an implicit MX
    hosts: tuple[str, ...] = ()
    #: a sentence for the verdict's reason
    detail: str = ""


def build_resolver(
    nameservers: Sequence[Nameserver] | None, timeout: float
) -> dns.asyncresolver.Resolver:
    """A resolver asking ``nameservers`` (the system's, from /etc/resolv.conf, when None).

    ``timeout`` bounds one lookup: every try on every nameserver together.
    Raises ``dns.resolver.NoResolverConfiguration`` when there is no system resolver.
    """
    resolver = dns.asyncresolver.Resolver(configure=nameservers is None)
    if nameservers is not None:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(s.host, s.port) for s in nameservers]
    resolver.timeout = timeout
    resolver.lifetime = timeout
    resolver.cache = None
    return resolver


def _unsettled(exc: Exception, what: str, timeout: float) -> Route:
    if isinstance(exc, dns.exception.Timeout):
        return Route(
            "timeout", detail=f"the DNS lookup of {what} got no answer within {timeout:g}s"
        )
    if isinstance(exc, dns.resolver.NoNameservers):
        return Route("servfail", detail=f"the DNS lookup of {what} failed: {exc}")
    return Route("error", detail=f"the DNS lookup of {what} failed: {type(exc).__name__}: {exc}")


async def _query(
    resolver: dns.asyncresolver.Resolver, name: dns.name.Name, rdtype: str
) -> dns.resolver.Answer:
    return await resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)


async def mail_route(resolver: dns.asyncresolver.Resolver, domain: str) -> Route:
    """Where mail for ``domain`` (an ASCII domain name) goes, or why DNS cannot tell."""
    name = dns.name.from_text(domain)
    timeout = float(resolver.lifetime)
    try:
        answer = await _query(resolver, name, "MX")
    except dns.resolver.NXDOMAIN:
        return Route("nxdomain", detail=f"the domain {domain} does not exist (NXDOMAIN)")
    except dns.exception.DNSException as exc:
        return _unsettled(exc, f"{domain} MX", timeout)
    records = [r for r in answer.rrset or () if isinstance(r, MX)]
    if records:
        real = sorted((r for r in records if r.exchange != dns.name.root), key=_preference)
        if not real:
            return Route(
                "null_mx",
                detail=f"the domain {domain} accepts no mail: it publishes a null MX (RFC 7505)",
            )
        hosts = tuple(r.exchange.to_text(omit_final_dot=True) for r in real)
        return Route(
            "mx", hosts, f"the domain {domain} accepts mail at {hosts[0]} (MX {real[0].preference})"
        )
    return await _implicit_mx(resolver, name, domain, timeout)


def _preference(record: MX) -> int:
    return int(record.preference)


async def _implicit_mx(
    resolver: dns.asyncresolver.Resolver, name: dns.name.Name, domain: str, timeout: float
) -> Route:
    """RFC 5321 section 5.1: without MX records, the domain's own address is the mail server."""
    results = await asyncio.gather(
        _query(resolver, name, "A"), _query(resolver, name, "AAAA"), return_exceptions=True
    )
    failure: BaseException | None = None
    for result in results:
        if isinstance(result, dns.resolver.Answer) and result.rrset:
            return Route(
                "implicit_mx",
                (domain,),
                f"the domain {domain} has no MX; its own address receives mail "
                "(RFC 5321 implicit MX)",
            )
        if isinstance(result, dns.resolver.NXDOMAIN):
            return Route("nxdomain", detail=f"the domain {domain} does not exist (NXDOMAIN)")
        if isinstance(result, BaseException) and failure is None:
            failure = result
    if failure is not None:
        if not isinstance(failure, Exception):
            raise failure
        return _unsettled(failure, f"{domain} A/AAAA (it has no MX)", timeout)
    return Route(
        "no_mail_route",
        detail=f"the domain {domain} has no MX and no A or AAAA record: no mail can reach it "
        "(RFC 5321 section 5.1)",
    )
