"""The DMARC record that governs a sender's domain: its own, else its organizational domain's.

RFC 7489 section 6.6.3: when ``_dmarc.<domain>`` has no record, a receiver asks the
**organizational domain** (``news.example.com`` -> ``example.com``), whose ``sp=`` policy
(or ``p=`` without one) then applies to the subdomain. RFC 7489 finds that domain with the
Public Suffix List; this check walks up the labels instead (the DNS tree walk of DMARCbis,
draft-ietf-dmarc-dmarcbis, which replaces the list): ``_dmarc.`` of the domain, then of each
parent, at most 8 names (a longer name jumps to its last 7 labels), never the top-level domain
alone. For a domain under a public suffix (``example.co.uk``) both find the same record; the
walk needs no copy of the list to keep up to date. A record marked ``psd=y`` belongs to a
public suffix operator, not to the sender.
"""

from __future__ import annotations

import attrs
import dns.asyncresolver

from aicmo_gateway_verify.dnsrecords import DomainFinding, tags, txt, unsettled

__all__ = ["DmarcRecord", "check_dmarc", "find_dmarc", "tree_walk"]

#: the most names the walk asks (DMARCbis section 4.10.1)
_MOST_LABELS = 8


def tree_walk(domain: str) -> list[str]:
    """The names whose ``_dmarc.`` record is asked for, in order: ``a.b.example.com`` ->
    ``a.b.example.com``, ``b.example.com``, ``example.com`` (never ``com`` alone)."""
    labels = domain.strip().rstrip(".").lower().split(".")
    names = [domain.strip().rstrip(".").lower()]
    if len(labels) > _MOST_LABELS:
        labels = labels[-(_MOST_LABELS - 1) :]
        names.append(".".join(labels))
    while len(labels) > 2:
        labels = labels[1:]
        names.append(".".join(labels))
    return names


@attrs.frozen
class DmarcRecord:
    """The record found for a domain and where: ``at`` is the domain itself or a parent."""

    at: str
    record: str
    tags: dict[str, str]
    #: every record at ``at`` (more than one: receivers ignore them all)
    count: int = 1


async def find_dmarc(resolver: dns.asyncresolver.Resolver, domain: str) -> DmarcRecord | str | None:
    """The governing record, ``None`` when the walk finds none, or why DNS could not tell."""
    for name in tree_walk(domain):
        found = await txt(resolver, f"_dmarc.{name}")
        if isinstance(found, str):
            return found
        records = [r for r in found if r.replace(" ", "").upper().startswith("V=DMARC1")]
        if records:
            return DmarcRecord(name, records[0], tags(records[0]), len(records))
    return None


async def check_dmarc(
    resolver: dns.asyncresolver.Resolver, domain: str, spf_subdomain: str = ""
) -> DomainFinding:
    """The DMARC finding of ``domain`` (``spf_subdomain``: the envelope sender's subdomain)."""
    name = f"_dmarc.{domain}"
    example = f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
    found = await find_dmarc(resolver, domain)
    if isinstance(found, str):
        return unsettled("DMARC", found)
    if found is None:
        return DomainFinding(
            "DMARC",
            False,
            f"{domain} publishes no DMARC record, nor does any parent domain (Gmail and Yahoo "
            "require one from bulk senders)",
            f"add a TXT record at {name}: {example}",
        )
    at = f"_dmarc.{found.at}"
    if found.count > 1:
        return DomainFinding(
            "DMARC",
            False,
            f"{at} has {found.count} DMARC records; receivers then ignore them all "
            "(RFC 7489 section 6.6.3)",
            f"keep one TXT record at {at}",
        )
    inherited = found.at != domain
    if inherited and found.tags.get("psd", "").lower() == "y":
        return DomainFinding(
            "DMARC",
            False,
            f"{domain} publishes no DMARC record; only the public suffix {found.at} has one "
            f"(psd=y), which is not the sender's policy",
            f"add a TXT record at {name} (or at your organizational domain): {example}",
        )
    policy = found.tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return DomainFinding(
            "DMARC",
            False,
            f"{at} has {found.record!r} without a valid policy p= (none, quarantine or reject)",
            f'write the record at {at} as "v=DMARC1; p=none; rua=mailto:dmarc-reports@{found.at}"',
        )
    if inherited:
        # RFC 7489 section 6.3: sp= is the policy for subdomains, p= when sp= is absent
        sub = found.tags.get("sp", "").lower()
        policy = sub if sub in ("none", "quarantine", "reject") else policy
    if spf_subdomain and found.tags.get("aspf", "r").lower() == "s":
        return DomainFinding(
            "DMARC",
            False,
            f"{at} asks for strict SPF alignment (aspf=s), but the envelope sender is "
            f"{spf_subdomain}.{domain}, so SPF never aligns and DMARC rests on DKIM alone",
            f"remove aspf=s from the record at {at} (relaxed alignment is the default)",
        )
    if inherited:
        which = "sp=" if "sp" in found.tags else "p="
        detail = (
            f"{domain} has no DMARC record of its own; the organizational domain's {at} "
            f"{found.record!r} applies (RFC 7489 section 6.6.3), policy {policy} from {which}"
        )
    else:
        detail = f"{at} has {found.record!r} (policy {policy})"
    if policy == "none":
        return DomainFinding(
            "DMARC",
            True,
            f"{detail}: it monitors only",
            "once the aggregate reports show only your own mail, move to p=quarantine"
            + (f" (sp=quarantine at {at} for subdomains)" if inherited else ""),
        )
    return DomainFinding("DMARC", True, detail)
