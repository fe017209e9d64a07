"""``DnsEmailVerifier``: a verdict on an address from its syntax, its domain and DNS.

The steps, in order (see the README for the verdict table):

1. syntax, with email-validator (its own DNS check off: DNS goes through our resolver);
   an invalid address is ``UNDELIVERABLE`` with email-validator's message;
2. disposable domains, from the ``disposable-email-domains`` list (a subdomain of a
   listed domain counts), and role accounts (:mod:`aicmo_gateway_verify.roles`);
3. the domain's mail route (:func:`aicmo_gateway_verify.lookup.mail_route`), unless
   ``check_mx = false``.

Imports dnspython and email-validator: the plugin's factory imports this module
when a provider is built, never at discovery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import attrs
import dns.asyncresolver
import dns.exception
import dns.resolver
from disposable_email_domains import blocklist
from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from loguru import logger

from aicmo_gateway import Unavailable
from aicmo_gateway.ports import Verdict, Verification
from aicmo_gateway_verify.lookup import UNSETTLED, Route, build_resolver, mail_route
from aicmo_gateway_verify.roles import role_of
from aicmo_gateway_verify.settings import VerifySettings

__all__ = ["MAX_CONCURRENT_LOOKUPS", "DnsEmailVerifier"]

#: distinct domains looked up at once by ``verify_many``
MAX_CONCURRENT_LOOKUPS = 20
#: the route kinds that settle an address as undeliverable
_NO_MAIL = frozenset({"nxdomain", "null_mx", "no_mail_route"})

log = logger.bind(provider_type="dns")


def disposable_domain(domain: str) -> str | None:
    """The listed disposable domain ``domain`` is or belongs to, if any."""
    labels = domain.lower().rstrip(".").split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in blocklist:
            return candidate
    return None


@attrs.define
class DnsEmailVerifier:
    """The ``dns`` email verifier: no account, no mailbox probing, honest about DNS failures."""

    settings: VerifySettings
    _resolver: dns.asyncresolver.Resolver | None = attrs.field(default=None, init=False)

    @classmethod
    def from_settings(cls, **settings: Any) -> DnsEmailVerifier:
        return cls(VerifySettings(**settings))

    def resolver(self) -> dns.asyncresolver.Resolver:
        """The resolver, built on first use; ``Unavailable`` when the system has none."""
        if self._resolver is None:
            try:
                self._resolver = build_resolver(self.settings.servers, self.settings.timeout)
            except dns.resolver.NoResolverConfiguration as exc:
                raise Unavailable(
                    "no system DNS resolver is configured (no usable /etc/resolv.conf); set "
                    'nameservers = ["192.0.2.53:53"] in this provider\'s table'
                ) from exc
        return self._resolver

    async def verify(self, address: str) -> Verification:
        """A verdict on one address."""
        parsed = _parse(address)
        if isinstance(parsed, Verification):
            return parsed
        route = await self._route(parsed.ascii_domain) if self.settings.check_mx else None
        return _verdict(address, parsed, route)

    async def verify_many(self, addresses: Sequence[str]) -> list[Verification]:
        """One verdict per address, in order; each domain is looked up once, a few at a time."""
        parsed = [_parse(address) for address in addresses]
        routes: dict[str, Route] = {}
        domains = {p.ascii_domain for p in parsed if isinstance(p, ValidatedEmail)}
        if self.settings.check_mx and domains:
            self.resolver()  # raises Unavailable here, not wrapped in the task group's error
            gate = asyncio.Semaphore(MAX_CONCURRENT_LOOKUPS)

            async def look_up(domain: str) -> None:
                async with gate:
                    routes[domain] = await self._route(domain)

            async with asyncio.TaskGroup() as group:
                for domain in sorted(domains):
                    group.create_task(look_up(domain))
        return [
            p if isinstance(p, Verification) else _verdict(address, p, routes.get(p.ascii_domain))
            for address, p in zip(addresses, parsed, strict=True)
        ]

    async def _route(self, domain: str) -> Route:
        route = await mail_route(self.resolver(), domain)
        if route.kind in UNSETTLED:
            log.debug("DNS could not tell for {}: {}", domain, route.detail)
        return route

    async def check(self) -> None:
        """Ask the nameservers for the root zone's name servers (``. NS``).

        Every working recursive resolver answers it from its root hints, without
        depending on any one domain. Raises ``Unavailable`` when they do not answer,
        fail, or answer without name servers (a resolver that cannot resolve
        internet names).
        """
        where = (
            ", ".join(str(s) for s in self.settings.servers)
            if self.settings.servers
            else "the system resolver"
        )
        try:
            answer = await self.resolver().resolve(".", "NS", search=False)
        except dns.exception.Timeout as exc:
            raise Unavailable(
                f"{where} did not answer within {self.settings.timeout:g}s; check that they "
                "run and are reachable, or raise timeout"
            ) from exc
        except dns.exception.DNSException as exc:
            raise Unavailable(
                f"{where} could not resolve the root zone's name servers ({exc}); point "
                "nameservers at a recursive resolver"
            ) from exc
        if not answer.rrset:
            raise Unavailable(
                f"{where} gave no name servers for the root zone; point nameservers at a "
                "recursive resolver"
            )


def _parse(address: str) -> ValidatedEmail | Verification:
    try:
        return validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return Verification(
            address=address,
            verdict=Verdict.UNDELIVERABLE,
            reason=str(exc),
            checks={"syntax": "invalid"},
        )


def _verdict(address: str, parsed: ValidatedEmail, route: Route | None) -> Verification:
    domain = parsed.ascii_domain
    disposable = disposable_domain(domain)
    role = role_of(parsed.local_part)
    checks: dict[str, Any] = {
        "syntax": "valid",
        "normalized": parsed.normalized,
        "domain": domain,
        "dns": route.kind if route is not None else "skipped",
    }
    if route is not None and route.hosts:
        checks["mail_servers"] = route.hosts
    verdict, reason = _decide(route, disposable, role)
    return Verification(
        address=address,
        verdict=verdict,
        reason=reason,
        disposable=disposable is not None,
        role_account=role is not None,
        checks=checks,
    )


def _decide(route: Route | None, disposable: str | None, role: str | None) -> tuple[Verdict, str]:
    risks = []
    if disposable is not None:
        risks.append(f"a disposable address ({disposable} is a throw-away mail domain)")
    if role is not None:
        risks.append(f"a role account ({role!r} names a function, not a person)")
    if route is None:
        found = "; ".join(risks) if risks else "the syntax is valid"
        if risks:
            return Verdict.RISKY, f"{found}; its domain was not looked up (check_mx = false)"
        return Verdict.UNKNOWN, f"{found}; its domain was not looked up (check_mx = false)"
    if route.kind in _NO_MAIL:
        return Verdict.UNDELIVERABLE, route.detail
    if route.kind in UNSETTLED:
        also = f" (also {'; '.join(risks)})" if risks else ""
        return Verdict.UNKNOWN, f"{route.detail}; try again later{also}"
    if risks:
        return Verdict.RISKY, f"{'; '.join(risks)}; {route.detail}"
    return Verdict.DELIVERABLE, route.detail
