"""SPF, DMARC and DKIM records of a sender's domain, asked of DNS, each with the fix.

Gmail and Yahoo (since February 2024) refuse or junk bulk mail that does not
authenticate: an SPF record that authorizes the sending servers, a DKIM signature
whose key is published in DNS, and a DMARC record. :func:`check_sender_domain`
reads what a domain publishes and says what is missing or wrong:

- **SPF** (RFC 7208): exactly one ``v=spf1`` TXT record at the domain that
  envelope senders use (for Resend, ``send.<domain>``); it must authorize something
  (a bare ``-all`` says the domain sends no mail) and, for a known provider, reach
  that provider's record (``include:_spf.google.com``, ...) somewhere in its chain. The
  chain of ``include:`` and ``redirect=`` is followed (:mod:`.spf`): more than 10
  DNS-querying terms or 2 void lookups, an include without SPF, or a loop is a
  ``permerror`` at every receiver.
- **DMARC** (RFC 7489): exactly one ``v=DMARC1`` TXT record at ``_dmarc.<domain>``, or
  else at its organizational domain (:mod:`.dmarc`), with a policy ``p=``; ``none``
  only monitors. Strict SPF alignment (``aspf=s``) fails when the envelope domain is a
  subdomain (Resend).
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

from aicmo_gateway_verify.dmarc import check_dmarc
from aicmo_gateway_verify.dnsrecords import DomainFinding, tags, txt, unsettled
from aicmo_gateway_verify.spf import LOOKUP_LIMIT, VOID_LIMIT, SpfWalk, spf_records, walk_spf

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


async def _spf(
    resolver: dns.asyncresolver.Resolver, domain: str, profile: SenderProfile
) -> DomainFinding:
    name = f"{profile.spf_subdomain}.{domain}" if profile.spf_subdomain else domain
    include = profile.spf_include
    wanted = f"include:{include}" if include else "a mx"
    example = f'"v=spf1 {wanted} ~all"'
    found = await txt(resolver, name)
    if isinstance(found, str):
        return unsettled("SPF", found)
    spf = spf_records(found)
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
    walk = await walk_spf(resolver, name, spf[0])
    if walk.unsettled:
        return unsettled("SPF", walk.unsettled)
    broken = _permerror(name, spf[0], walk)
    if broken is not None:
        return broken
    if include and include not in walk.reached:
        return DomainFinding(
            "SPF",
            False,
            f"{name} has SPF {spf[0]!r} without include:{include}, so the provider's servers "
            "are not authorized",
            f"add include:{include} before the all term of the SPF record at {name}",
        )
    return DomainFinding(
        "SPF",
        True,
        f"{name} has SPF {spf[0]!r} ({walk.lookups} of {LOOKUP_LIMIT} DNS lookups)",
        _ptr_fix(walk),
    )


def _ptr_fix(walk: SpfWalk) -> str:
    if not walk.ptr:
        return ""
    return (
        "replace the ptr terms with ip4:/ip6: ranges or a: names: ptr is slow and "
        "deprecated (RFC 7208 section 5.5), and some receivers ignore it"
    )


def _permerror(name: str, record: str, walk: SpfWalk) -> DomainFinding | None:
    """The finding when receivers answer ``permerror`` for this chain, else ``None``."""
    if walk.over_limit:
        size = f"more than {walk.lookups}" if walk.cut else str(walk.lookups)
        return DomainFinding(
            "SPF",
            False,
            f"{name} has SPF {record!r}, which needs {size} DNS lookups: over the limit of "
            f"{LOOKUP_LIMIT} (RFC 7208 section 4.6.4), so receivers answer permerror and SPF "
            f"fails for every message; the chain: {walk.described_chain()}",
            f"bring the SPF record at {name} to {LOOKUP_LIMIT} lookups or fewer: remove "
            "include:s of services you no longer send through, replace a, mx and include: "
            "terms for servers you run with their ip4:/ip6: ranges (which cost no lookup), or "
            "send some mail from a subdomain with its own SPF record",
        )
    if len(walk.voids) > VOID_LIMIT:
        voids = ", ".join(walk.voids)
        return DomainFinding(
            "SPF",
            False,
            f"{name} has SPF {record!r}, whose chain names {len(walk.voids)} domains with no "
            f"records ({voids}): over the limit of {VOID_LIMIT} void lookups (RFC 7208 section "
            "4.6.4), so receivers answer permerror",
            f"remove the terms naming {voids} from the SPF chain of {name}",
        )
    if walk.errors:
        return DomainFinding(
            "SPF",
            False,
            f"{name} has SPF {record!r}, which receivers answer with permerror: "
            + "; ".join(walk.errors),
            f"fix or remove those terms in the SPF chain of {name}",
        )
    return None


async def _dkim(resolver: dns.asyncresolver.Resolver, domain: str, selector: str) -> DomainFinding:
    name = f"{selector}._domainkey.{domain}"
    fix = (
        f"publish the DKIM public key your sending service gives you as a TXT (or CNAME) "
        f"record at {name}, and enable DKIM signing there"
    )
    found = await txt(resolver, name)
    if isinstance(found, str):
        return unsettled("DKIM", found)
    keys = [r for r in found if "p" in tags(r)]
    if not keys:
        return DomainFinding("DKIM", False, f"{name} publishes no DKIM key", fix)
    key = tags(keys[0])
    if key.get("v", "DKIM1") != "DKIM1":
        return DomainFinding(
            "DKIM", False, f"{name} has v={key['v']!r}; only DKIM1 exists", f"write v=DKIM1; {fix}"
        )
    if not key["p"]:
        return DomainFinding("DKIM", False, f"{name} has an empty p=: the key is revoked", fix)
    return DomainFinding("DKIM", True, f"{name} publishes a {key.get('k', 'rsa')} key")


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
    findings = [
        await _spf(resolver, domain, profile),
        await check_dmarc(resolver, domain, profile.spf_subdomain),
    ]
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
