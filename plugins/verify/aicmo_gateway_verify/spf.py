"""An SPF record followed through its ``include:`` and ``redirect=`` chain, counting lookups.

RFC 7208 section 4.6.4 caps what one SPF evaluation may ask of DNS: at most **10** terms
that cause a lookup (``include``, ``a``, ``mx``, ``ptr``, ``exists`` and ``redirect``, counted
over the whole chain; ``ip4``, ``ip6`` and ``all`` are free), and at most **2 void lookups**
(a name that does not exist or has no records). A receiver that goes over either answers
``permerror``, and SPF fails for every message, whatever the sending server. So does an
``include:`` of a domain without an SPF record, a chain that includes itself, or a
``redirect=`` to nowhere.

:func:`walk_spf` evaluates the record's structure, not a sending IP: it follows every
``include:`` and ``redirect=`` (``redirect=`` only when the record has no ``all``), asks the
names of ``a`` and ``mx`` terms (both address families, so a name with only AAAA records is not
void) and of macro-free ``exists`` terms, and counts. Terms with macros (``%{i}``) depend on the
sender and are counted but not asked. It stops after :data:`WALK_LIMIT` lookups, so a chain far
over the limit is still reported with its size.
"""

from __future__ import annotations

import attrs
import dns.asyncresolver

from aicmo_gateway_verify.dnsrecords import has_records, txt

__all__ = ["LOOKUP_LIMIT", "VOID_LIMIT", "WALK_LIMIT", "SpfWalk", "spf_records", "walk_spf"]

#: RFC 7208 section 4.6.4
LOOKUP_LIMIT = 10
VOID_LIMIT = 2
#: the walk asks at most this many lookups' worth of terms, then stops counting
WALK_LIMIT = 30
_MX_NAMES = 10
_COUNTED = ("include", "a", "mx", "ptr", "exists")


def spf_records(found: list[str]) -> list[str]:
    """The ``v=spf1`` records among TXT strings."""
    return [r for r in found if r.strip().lower().split(" ")[0] == "v=spf1"]


@attrs.define
class SpfWalk:
    """What the walk found; ``errors`` are what makes receivers answer ``permerror``."""

    domain: str
    #: DNS-querying terms over the whole chain
    lookups: int = 0
    #: the names that did not exist or had no records
    voids: list[str] = attrs.Factory(list)
    #: each domain whose record was read, with the lookups its own terms cost
    chain: list[tuple[str, int]] = attrs.Factory(list)
    #: every ``include:`` and ``redirect=`` target, lowercased
    reached: set[str] = attrs.Factory(set)
    errors: list[str] = attrs.Factory(list)
    #: why DNS could not tell, when it could not
    unsettled: str | None = None
    #: the walk stopped at WALK_LIMIT lookups
    cut: bool = False
    #: ``ptr`` terms seen (deprecated, RFC 7208 section 5.5)
    ptr: int = 0

    @property
    def over_limit(self) -> bool:
        return self.lookups > LOOKUP_LIMIT

    def described_chain(self) -> str:
        """``example.com (3) -> _spf.google.com (3) -> ...``: where the lookups go."""
        return " -> ".join(f"{name} ({cost})" for name, cost in self.chain)


def _target(term: str, default: str) -> str:
    """The domain of ``a:host/24`` or ``mx`` (the current domain), without a CIDR length."""
    _, sep, rest = term.partition(":")
    name = rest if sep else default
    return name.split("/", 1)[0].strip().rstrip(".").lower()


async def walk_spf(resolver: dns.asyncresolver.Resolver, domain: str, record: str) -> SpfWalk:
    """Follow ``record`` (the SPF record published at ``domain``) and count its lookups."""
    walk = SpfWalk(domain)
    await _walk(resolver, walk, domain, record, [domain.lower()])
    return walk


async def _void(
    resolver: dns.asyncresolver.Resolver, walk: SpfWalk, name: str, *types: str
) -> None:
    for rdtype in types:
        count, failed = await has_records(resolver, name, rdtype)
        if failed is not None:
            walk.unsettled = walk.unsettled or failed
            return
        if count:
            if rdtype == "MX" and count > _MX_NAMES:
                walk.errors.append(
                    f"mx:{name} has {count} MX records; SPF asks the addresses of at most "
                    f"{_MX_NAMES} (RFC 7208 section 4.6.4)"
                )
            return
    walk.voids.append(name)


async def _walk(
    resolver: dns.asyncresolver.Resolver,
    walk: SpfWalk,
    domain: str,
    record: str,
    path: list[str],
) -> None:
    terms = record.split()[1:]
    index = len(walk.chain)
    walk.chain.append((domain, 0))
    mine = 0
    redirect = None
    has_all = any(t.lower().lstrip("+-~?") == "all" for t in terms)
    for term in terms:
        if walk.lookups >= WALK_LIMIT:
            walk.cut = True
            break
        low = term.lower()
        if low.startswith("redirect="):
            redirect = low.split("=", 1)[1].strip().rstrip(".")
            continue
        mechanism = low.lstrip("+-~?")
        kind = mechanism.split(":", 1)[0].split("/", 1)[0]
        if kind not in _COUNTED:
            continue
        walk.lookups += 1
        mine += 1
        walk.chain[index] = (domain, mine)
        target = _target(mechanism, domain)
        if "%" in target:
            continue  # a macro: it depends on the sender, nothing to ask here
        if kind == "include":
            await _follow(resolver, walk, target, path, f"include:{target}")
        elif kind == "a":
            await _void(resolver, walk, target, "A", "AAAA")
        elif kind == "mx":
            await _void(resolver, walk, target, "MX")
        elif kind == "exists":
            await _void(resolver, walk, target, "A")
        else:
            walk.ptr += 1
        if walk.unsettled:
            return
    if redirect and not has_all and not walk.cut:
        walk.lookups += 1
        walk.chain[index] = (domain, mine + 1)
        if "%" not in redirect:
            await _follow(resolver, walk, redirect, path, f"redirect={redirect}")


async def _follow(
    resolver: dns.asyncresolver.Resolver,
    walk: SpfWalk,
    target: str,
    path: list[str],
    term: str,
) -> None:
    walk.reached.add(target)
    if target in path:
        walk.errors.append(
            f"{term} loops back: {' -> '.join([*path, target])} (RFC 7208 section 4.6.4)"
        )
        return
    found = await txt(resolver, target)
    if isinstance(found, str):
        walk.unsettled = walk.unsettled or found
        return
    records = spf_records(found)
    if not records:
        if not found:
            walk.voids.append(target)
        walk.errors.append(f"{term} names a domain without an SPF record (permerror)")
        return
    if len(records) > 1:
        walk.errors.append(f"{term}: {target} publishes {len(records)} SPF records (permerror)")
        return
    await _walk(resolver, walk, target, records[0], [*path, target])
