"""SPF, DMARC and DKIM records of a sender's domain, asked of DNS, each with the fix.

Gmail and Yahoo (since February 2024) refuse or junk bulk mail that does not
authenticate: an SPF record that authorizes the sending servers, a DKIM signature
whose key is published in DNS, and a DMARC record. :func:`check_sender_domain`
reads what a domain publishes and says what is missing or wrong:

- **SPF** (RFC 7208): exactly one ``v=spf1`` TXT record at the domain that
  envelope senders use (for Resend, ``send.<domain>``); it must authorize something
  (a bare ``-all`` says the domain sends no mail) and, for a known provider, include
  that provider's record (``include:_spf.google.com``, ...).
- **DMARC** (RFC 7489): exactly one ``v=DMARC1`` TXT record at ``_dmarc.<domain>``
  with a policy ``p=``; ``none`` only monitors. Strict SPF alignment (``aspf=s``)
  fails when the envelope domain is a subdomain (Resend).
- **DKIM** (RFC 6376), given a selector: a TXT record at
  ``<selector>._domainkey.<domain>`` with a public key ``p=`` (an empty ``p=`` is a
  revoked key).

The resolver is passed in (see :func:`~aicmo_gateway_verify.lookup.build_resolver`),
so tests and ``doctor`` can ask a chosen nameserver.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

__all__ = ["PROFILES", "DomainFinding", "SenderProfile", "check_sender_domain"]


@attrs.frozen
class SenderProfile:
    """What a sending service needs in DNS."""

    #: the include: the service's SPF record is reached by (``None``: any authorization)
    spf_include: str | None = None
    #: the subdomain whose SPF the envelope sender uses ("" for the domain itself)
    spf_subdomain: str = ""
    #: the DKIM selector the service signs with, when it is fixed
    dkim_selector: str | None = None


#: what the known services need, by SMTP preset or provider type
PROFILES: dict[str, SenderProfile] = {
    "gmail": SenderProfile("_spf.google.com"),
    "google-workspace": SenderProfile("_spf.google.com", dkim_selector="google"),
    "google-workspace-relay": SenderProfile("_spf.google.com", dkim_selector="google"),
    "microsoft365": SenderProfile("spf.protection.outlook.com", dkim_selector="selector1"),
    "resend": SenderProfile("amazonses.com", spf_subdomain="send", dkim_selector="resend"),
}


@attrs.frozen
class DomainFinding:
    """One record checked: ``SPF``, ``DMARC`` or ``DKIM``."""

    item: str
    ok: bool
    detail: str
    #: what to publish or change when not ok (or to improve when ok)
    fix: str = ""


async def _txt(resolver: dns.asyncresolver.Resolver, name: str) -> list[str] | str:
    """The TXT strings at ``name`` (each record's parts joined), or why DNS cannot tell."""
    try:
        answer = await resolver.resolve(
            dns.name.from_text(name), "TXT", search=False, raise_on_no_answer=False
        )
    except dns.resolver.NXDOMAIN:
        return []
    except dns.exception.Timeout:
        return f"the DNS lookup of {name} TXT got no answer within {float(resolver.lifetime):g}s"
    except dns.exception.DNSException as exc:
        return f"the DNS lookup of {name} TXT failed: {type(exc).__name__}: {exc}"
    records = []
    for record in answer.rrset or ():
        strings = getattr(record, "strings", ())
        records.append(b"".join(strings).decode("utf-8", "replace"))
    return records


def _unsettled(item: str, why: str) -> DomainFinding:
    return DomainFinding(
        item, False, f"not checked: {why}", "check the nameservers and the network, then retry"
    )


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags[key.strip().lower()] = value.strip()
    return tags


async def _spf(
    resolver: dns.asyncresolver.Resolver, domain: str, profile: SenderProfile
) -> DomainFinding:
    name = f"{profile.spf_subdomain}.{domain}" if profile.spf_subdomain else domain
    include = profile.spf_include
    wanted = f"include:{include}" if include else "a mx"
    example = f'"v=spf1 {wanted} ~all"'
    found = await _txt(resolver, name)
    if isinstance(found, str):
        return _unsettled("SPF", found)
    spf = [r for r in found if r.lower().split(" ")[0] == "v=spf1"]
    if not spf:
        return DomainFinding(
            "SPF",
            False,
            f"{name} publishes no SPF record",
            f"add a TXT record at {name}: {example}",
        )
    if len(spf) > 1:
        return DomainFinding(
            "SPF",
            False,
            f"{name} publishes {len(spf)} SPF records; receivers treat that as an error "
            "(RFC 7208 section 4.5)",
            f"merge them into one TXT record at {name}, e.g. {example}",
        )
    terms = spf[0].split()[1:]
    authorizing = [t for t in terms if not t.lower().lstrip("+?~").startswith(("all", "exp="))]
    authorizing = [t for t in authorizing if not t.startswith("-")]
    if not authorizing:
        return DomainFinding(
            "SPF",
            False,
            f"{name} has SPF {spf[0]!r}, which authorizes no server: the domain says it sends "
            "no mail",
            f"replace it with {example}",
        )
    if include and f"include:{include}" not in [t.lower().lstrip("+") for t in terms]:
        return DomainFinding(
            "SPF",
            False,
            f"{name} has SPF {spf[0]!r} without include:{include}, so the provider's servers "
            "are not authorized",
            f"add include:{include} before the all term of the SPF record at {name}",
        )
    return DomainFinding("SPF", True, f"{name} has SPF {spf[0]!r}")


async def _dmarc(
    resolver: dns.asyncresolver.Resolver, domain: str, profile: SenderProfile
) -> DomainFinding:
    name = f"_dmarc.{domain}"
    example = f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
    found = await _txt(resolver, name)
    if isinstance(found, str):
        return _unsettled("DMARC", found)
    records = [r for r in found if r.replace(" ", "").upper().startswith("V=DMARC1")]
    if not records:
        return DomainFinding(
            "DMARC",
            False,
            f"{domain} publishes no DMARC record (Gmail and Yahoo require one from bulk senders)",
            f"add a TXT record at {name}: {example}",
        )
    if len(records) > 1:
        return DomainFinding(
            "DMARC",
            False,
            f"{name} has {len(records)} DMARC records; receivers then ignore them all "
            "(RFC 7489 section 6.6.3)",
            f"keep one TXT record at {name}",
        )
    tags = _tags(records[0])
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return DomainFinding(
            "DMARC",
            False,
            f"{name} has {records[0]!r} without a valid policy p= (none, quarantine or reject)",
            f"write the record as {example}",
        )
    if profile.spf_subdomain and tags.get("aspf", "r").lower() == "s":
        return DomainFinding(
            "DMARC",
            False,
            f"{name} asks for strict SPF alignment (aspf=s), but the envelope sender is "
            f"{profile.spf_subdomain}.{domain}, so SPF never aligns and DMARC rests on DKIM alone",
            f"remove aspf=s from the record at {name} (relaxed alignment is the default)",
        )
    detail = f"{name} has {records[0]!r} (policy {policy})"
    if policy == "none":
        return DomainFinding(
            "DMARC",
            True,
            f"{detail}: it monitors only",
            "once the aggregate reports show only your own mail, move to p=quarantine",
        )
    return DomainFinding("DMARC", True, detail)


async def _dkim(resolver: dns.asyncresolver.Resolver, domain: str, selector: str) -> DomainFinding:
    name = f"{selector}._domainkey.{domain}"
    fix = (
        f"publish the DKIM public key your sending service gives you as a TXT (or CNAME) "
        f"record at {name}, and enable DKIM signing there"
    )
    found = await _txt(resolver, name)
    if isinstance(found, str):
        return _unsettled("DKIM", found)
    keys = [r for r in found if "p" in _tags(r)]
    if not keys:
        return DomainFinding("DKIM", False, f"{name} publishes no DKIM key", fix)
    tags = _tags(keys[0])
    if tags.get("v", "DKIM1") != "DKIM1":
        return DomainFinding(
            "DKIM", False, f"{name} has v={tags['v']!r}; only DKIM1 exists", f"write v=DKIM1; {fix}"
        )
    if not tags["p"]:
        return DomainFinding("DKIM", False, f"{name} has an empty p=: the key is revoked", fix)
    return DomainFinding("DKIM", True, f"{name} publishes a {tags.get('k', 'rsa')} key")


async def check_sender_domain(
    resolver: dns.asyncresolver.Resolver,
    domain: str,
    *,
    profile: SenderProfile | None = None,
    dkim_selector: str | None = None,
) -> Sequence[DomainFinding]:
    """The SPF, DMARC and (given a selector, or a profile with one) DKIM findings of ``domain``."""
    profile = profile or SenderProfile()
    domain = domain.strip().rstrip(".").lower()
    findings = [await _spf(resolver, domain, profile), await _dmarc(resolver, domain, profile)]
    selector = dkim_selector or profile.dkim_selector
    if selector:
        findings.append(await _dkim(resolver, domain, selector))
    else:
        findings.append(
            DomainFinding(
                "DKIM",
                True,
                "not checked: no selector known",
                "set dkim_selector in the provider's settings to check the DKIM key",
            )
        )
    return findings
