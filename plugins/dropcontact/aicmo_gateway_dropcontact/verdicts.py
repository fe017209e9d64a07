"""Dropcontact's email qualifications to the port's verdicts.

A qualification is ``localpart@domain`` (developer.dropcontact.com/en/reference/
enriched-record), in English or French after the request's ``language``:

==========================================  ==============================================
local part                                  verdict
==========================================  ==============================================
``nominative`` / ``nominatif``              deliverable (a named person's verified address)
``catch_all`` / ``catch-all``               risky, ``accept_all`` (the domain takes all)
``generic`` / ``generique``                 risky, ``role_account`` (contact@, sales@)
``do_not_contact`` / ``ne_pas_contacter``   risky (the person asked not to be contacted)
``non_validated`` / ``non_valide``          unknown (Dropcontact could not tell)
``invalid`` / ``invalide``                  undeliverable
==========================================  ==============================================

The domain part: ``pro`` and ``school`` leave the verdict; ``perso`` marks a free
provider; ``disposable`` / ``jetable`` makes a deliverable address risky
(``disposable``); ``invalid domain`` / ``domaine invalide`` is undeliverable. Anything
else is ``unknown``: a verifier that cannot read an answer never says "deliverable". The
vendor's qualification is the verdict's ``reason``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from aicmo_gateway.ports import Verdict, Verification

__all__ = ["SOURCE", "emails_of", "judge", "verification_of"]

SOURCE = "dropcontact:enrich/all"

_LOCAL: dict[str, tuple[Verdict, dict[str, bool]]] = {
    "nominative": (Verdict.DELIVERABLE, {}),
    "nominatif": (Verdict.DELIVERABLE, {}),
    "catch_all": (Verdict.RISKY, {"accept_all": True}),
    "generic": (Verdict.RISKY, {"role_account": True}),
    "generique": (Verdict.RISKY, {"role_account": True}),
    "do_not_contact": (Verdict.RISKY, {}),
    "ne_pas_contacter": (Verdict.RISKY, {}),
    "non_validated": (Verdict.UNKNOWN, {}),
    "non_valide": (Verdict.UNKNOWN, {}),
    "invalid": (Verdict.UNDELIVERABLE, {}),
    "invalide": (Verdict.UNDELIVERABLE, {}),
}
_GOOD_DOMAINS = frozenset({"pro", "school", "ecole"})
_FREE_DOMAINS = frozenset({"perso", "personal"})
_DISPOSABLE = frozenset({"disposable", "jetable"})
_BAD_DOMAINS = frozenset({"invalid_domain", "domaine_invalide"})


def _word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "_".join(plain.strip().lower().replace("-", " ").replace("_", " ").split())


def judge(qualification: str) -> tuple[Verdict, dict[str, bool]]:
    """The verdict and flags a qualification means."""
    local, _, domain = qualification.partition("@")
    found = _LOCAL.get(_word(local))
    if found is None:
        return Verdict.UNKNOWN, {}
    verdict, flags = found[0], dict(found[1])
    kind = _word(domain)
    if kind in _BAD_DOMAINS:
        return Verdict.UNDELIVERABLE, flags
    if kind in _DISPOSABLE:
        flags["disposable"] = True
        if verdict is Verdict.DELIVERABLE:
            verdict = Verdict.RISKY
    elif kind in _FREE_DOMAINS:
        flags["free_provider"] = True
    elif kind not in _GOOD_DOMAINS:
        return Verdict.UNKNOWN, flags
    flags.setdefault("disposable", False)
    return verdict, flags


def emails_of(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(address, qualification)`` for each email of an enriched record."""
    found: list[tuple[str, str]] = []
    emails = record.get("email")
    if isinstance(emails, str):  # a bare address, without a qualification
        emails = [{"email": emails}]
    if not isinstance(emails, Sequence):
        return found
    for entry in emails:
        if isinstance(entry, Mapping) and isinstance(entry.get("email"), str):
            qualification = entry.get("qualification")
            found.append((entry["email"], qualification if isinstance(qualification, str) else ""))
    return found


def verification_of(address: str, record: Mapping[str, Any]) -> Verification:
    """The verdict on ``address`` from the enriched record Dropcontact returned for it."""
    emails = emails_of(record)
    checks: dict[str, Any] = {"source": SOURCE, "emails": [list(e) for e in emails]}
    mine = [q for email, q in emails if email.strip().lower() == address.strip().lower()]
    better = next(
        (
            email
            for email, q in emails
            if email.strip().lower() != address.strip().lower()
            and judge(q)[0] is Verdict.DELIVERABLE
        ),
        None,
    )
    if not mine:
        return Verification(
            address=address,
            verdict=Verdict.UNKNOWN,
            reason="Dropcontact returned no qualification for this address",
            suggestion=better,
            checks=checks,
        )
    qualification = mine[0]
    verdict, flags = judge(qualification)
    checks["qualification"] = qualification
    reason = qualification or "Dropcontact gave no qualification"
    if (
        qualification
        and verdict is Verdict.UNKNOWN
        and _word(qualification.partition("@")[0]) not in _LOCAL
    ):
        reason = f"{qualification} (a qualification this provider does not know)"
    return Verification(
        address=address,
        verdict=verdict,
        reason=reason,
        suggestion=better if verdict is not Verdict.DELIVERABLE else None,
        checks=checks,
        **flags,
    )
