"""TXT and presence lookups for the sender-domain check, and the finding it reports.

Every lookup goes through the resolver passed in; a DNS failure is returned as a sentence
(``str``), never raised, so a check can say "not checked" instead of giving a verdict.
"""

from __future__ import annotations

import attrs
import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

__all__ = ["DomainFinding", "has_records", "tags", "txt", "unsettled"]


@attrs.frozen
class DomainFinding:
    """One record checked: ``SPF``, ``DMARC`` or ``DKIM``."""

    item: str
    ok: bool
    detail: str
    #: what to publish or change when not ok (or to improve when ok)
    fix: str = ""


def _failed(exc: dns.exception.DNSException, name: str, rdtype: str, lifetime: float) -> str:
    if isinstance(exc, dns.exception.Timeout):
        return f"the DNS lookup of {name} {rdtype} got no answer within {lifetime:g}s"
    return f"the DNS lookup of {name} {rdtype} failed: {type(exc).__name__}: {exc}"


async def txt(resolver: dns.asyncresolver.Resolver, name: str) -> list[str] | str:
    """The TXT strings at ``name`` (each record's parts joined), or why DNS cannot tell."""
    try:
        answer = await resolver.resolve(
            dns.name.from_text(name), "TXT", search=False, raise_on_no_answer=False
        )
    except dns.resolver.NXDOMAIN:
        return []
    except dns.exception.DNSException as exc:
        return _failed(exc, name, "TXT", float(resolver.lifetime))
    records = []
    for record in answer.rrset or ():
        strings = getattr(record, "strings", ())
        records.append(b"".join(strings).decode("utf-8", "replace"))
    return records


async def has_records(
    resolver: dns.asyncresolver.Resolver, name: str, rdtype: str
) -> tuple[int, str | None]:
    """How many ``rdtype`` records ``name`` has (``0``: NXDOMAIN or none), or why DNS can't tell."""
    try:
        answer = await resolver.resolve(
            dns.name.from_text(name), rdtype, search=False, raise_on_no_answer=False
        )
    except dns.resolver.NXDOMAIN:
        return 0, None
    except dns.exception.DNSException as exc:
        return 0, _failed(exc, name, rdtype, float(resolver.lifetime))
    return len(answer.rrset or ()), None


def unsettled(item: str, why: str) -> DomainFinding:
    return DomainFinding(
        item, False, f"not checked: {why}", "check the nameservers and the network, then retry"
    )


def tags(record: str) -> dict[str, str]:
    """``v=DMARC1; p=none`` -> ``{"v": "DMARC1", "p": "none"}`` (names lowercased)."""
    found = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            found[key.strip().lower()] = value.strip()
    return found
