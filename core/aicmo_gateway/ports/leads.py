"""Records of the ``lead_enrichment`` and ``email_verification`` ports."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any

import attrs

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import _validate as v
from aicmo_gateway.ports._fields import optional_text

__all__ = ["Enrichment", "Lead", "Verdict", "Verification"]


# -- Lead ----------------------------------------------------------------------


def _email(value: str | None) -> str | None:
    return None if value is None else v.bare_address(value, "Lead.email")


def _domain(value: str | None) -> str | None:
    field = "Lead.domain"
    text = optional_text(value, field)
    if text is None:
        return None
    host = text.strip().lower()
    for prefix in ("https://", "http://", "www."):
        host = host.removeprefix(prefix)
    host = host.split("/")[0].split("?")[0].split("#")[0].split(":")[0]
    problem = v.problem_with_domain(host)
    if problem:
        raise InvalidInput(
            f"{field}: {value!r} is not a domain: {problem}; pass a name such as 'example.com'",
            field=field,
        )
    return host


def _first_name(value: str | None) -> str | None:
    return optional_text(value, "Lead.first_name")


def _last_name(value: str | None) -> str | None:
    return optional_text(value, "Lead.last_name")


def _company(value: str | None) -> str | None:
    return optional_text(value, "Lead.company")


def _linkedin_url(value: str | None) -> str | None:
    return optional_text(value, "Lead.linkedin_url")


def _given(text: str | None) -> bool:
    return bool(text and text.strip())


@attrs.frozen
class Lead:
    """Who to enrich: an email, a LinkedIn URL, or a name with a company or domain.

    ``email`` is kept as the bare address; ``domain`` accepts a URL and keeps its host name.
    """

    email: str | None = attrs.field(converter=_email, default=None)
    first_name: str | None = attrs.field(converter=_first_name, default=None)
    last_name: str | None = attrs.field(converter=_last_name, default=None)
    company: str | None = attrs.field(converter=_company, default=None)
    domain: str | None = attrs.field(converter=_domain, default=None)
    linkedin_url: str | None = attrs.field(converter=_linkedin_url, default=None)

    def __attrs_post_init__(self) -> None:
        named = _given(self.first_name) or _given(self.last_name)
        organisation = _given(self.company) or _given(self.domain)
        if not (self.email or _given(self.linkedin_url) or (named and organisation)):
            raise InvalidInput(
                "Lead: not enough to identify a person; pass email=, linkedin_url=, "
                "or a first/last name together with company= or domain=",
                field="Lead",
            )


# -- Enrichment ----------------------------------------------------------------


def _confidence(value: float | None) -> float | None:
    field = "Enrichment.confidence"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            f"{field}: expected a number between 0 and 1, got {type(value).__name__}",
            field=field,
        )
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidInput(
            f"{field}: {value!r} is outside 0..1; scale the provider's score to 0..1 "
            "(e.g. divide a percentage by 100)",
            field=field,
        )
    return float(value)


def _enrichment_attributes(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return v.frozen_mapping(value, "Enrichment.attributes")


@attrs.frozen
class Enrichment:
    """What an enricher found. ``found=False`` is an empty answer (nothing matched)."""

    found: bool
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    company: str | None = None
    domain: str | None = None
    linkedin_url: str | None = None
    phone: str | None = None
    location: str | None = None
    industry: str | None = None
    company_size: str | None = None
    #: 0..1, when the provider scores its match
    confidence: float | None = attrs.field(converter=_confidence, default=None)
    attributes: Mapping[str, Any] = attrs.field(
        converter=_enrichment_attributes, factory=dict, hash=False
    )

    @property
    def empty(self) -> bool:
        return not self.found


# -- Verification --------------------------------------------------------------


class Verdict(enum.StrEnum):
    """An email verifier's verdict on an address."""

    DELIVERABLE = "deliverable"
    UNDELIVERABLE = "undeliverable"
    RISKY = "risky"  # accept-all domains, role or disposable addresses
    UNKNOWN = "unknown"  # the verifier could not tell


def _verdict(value: Verdict | str) -> Verdict:
    field = "Verification.verdict"
    if isinstance(value, str):
        try:
            return Verdict(value.strip().lower())
        except ValueError:
            pass
    raise InvalidInput(
        f"{field}: {value!r} is not a verdict; use one of "
        f"{', '.join(repr(item.value) for item in Verdict)} (or a Verdict member); "
        "map the provider's own result to the closest one",
        field=field,
    )


def _checks(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return v.frozen_mapping(value, "Verification.checks")


@attrs.frozen
class Verification:
    """A verdict on one address, with the checks behind it."""

    address: str
    verdict: Verdict = attrs.field(converter=_verdict)
    reason: str = ""
    disposable: bool | None = None
    role_account: bool | None = None
    free_provider: bool | None = None
    accept_all: bool | None = None
    #: a likely intended address, e.g. for a typo in the domain
    suggestion: str | None = None
    checks: Mapping[str, Any] = attrs.field(converter=_checks, factory=dict, hash=False)
