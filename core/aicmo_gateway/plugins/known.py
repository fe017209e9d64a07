"""First-party distributions: what provides an unknown provider type, and how to install it."""

from __future__ import annotations

#: provider type name -> (distribution, capabilities it serves)
KNOWN_PROVIDER_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "smtp": ("aicmo-gateway-smtp", ("email_sending",)),
    "gmail": ("aicmo-gateway-smtp", ("email_sending",)),
    "imap": ("aicmo-gateway-imap", ("reply_fetching",)),
    "resend": ("aicmo-gateway-resend", ("email_sending",)),
    "airtable": ("aicmo-gateway-airtable", ("crm_sync",)),
    "hubspot": ("aicmo-gateway-hubspot", ("crm_sync",)),
    "apollo": ("aicmo-gateway-apollo", ("lead_enrichment",)),
    "dropcontact": ("aicmo-gateway-dropcontact", ("lead_enrichment", "email_verification")),
    "dns": ("aicmo-gateway-verify", ("email_verification",)),
    "mastodon": ("aicmo-gateway-mastodon", ("social_posting",)),
    "bluesky": ("aicmo-gateway-bluesky", ("social_posting",)),
    # Make, Zapier and n8n are presets of the webhook type (preset = "make"), not types
    "webhook": ("aicmo-gateway-webhooks", ("webhook_dispatch",)),
}

#: first-party distribution -> its folder in the aicmo-gateway repository
IN_REPOSITORY: dict[str, str] = {
    "aicmo-gateway": ".",
    "aicmo-gateway-airtable": "plugins/airtable",
    "aicmo-gateway-apollo": "plugins/apollo",
    "aicmo-gateway-bluesky": "plugins/bluesky",
    "aicmo-gateway-dropcontact": "plugins/dropcontact",
    "aicmo-gateway-imap": "plugins/imap",
    "aicmo-gateway-mastodon": "plugins/mastodon",
    "aicmo-gateway-otel": "plugins/otel",
    "aicmo-gateway-prometheus": "plugins/prometheus",
    "aicmo-gateway-resend": "plugins/resend",
    "aicmo-gateway-smtp": "plugins/smtp",
    "aicmo-gateway-verify": "plugins/verify",
    "aicmo-gateway-webhooks": "plugins/webhooks",
}

#: first-party distributions a package index serves. None yet: until a distribution is listed
#: here, every hint says how to install it from a checkout of the repository instead.
PUBLISHED: frozenset[str] = frozenset()

NOT_PUBLISHED = "from a checkout of the aicmo-gateway repository (it is not on PyPI yet)"


def install_command(distribution: str, extra: str = "") -> str | None:
    """The ``pip install`` command for a first-party distribution, ``None`` if there is none.

    ``pip install NAME`` once it is published; until then the path of its folder, to run
    from the root of a checkout of the repository.
    """
    if distribution in PUBLISHED:
        target = distribution
    elif distribution in IN_REPOSITORY:
        folder = IN_REPOSITORY[distribution]
        target = "." if folder == "." else f"./{folder}"
    else:
        return None
    return f"pip install '{target}[{extra}]'" if extra else f"pip install {target}"


def how_to_install(distribution: str, extra: str = "") -> str | None:
    """``with: pip install ...``, saying where to run it while it is not published."""
    command = install_command(distribution, extra)
    if command is None:
        return None
    return f"with: {command}" if distribution in PUBLISHED else f"{NOT_PUBLISHED} with: {command}"


def install_hint(type_name: str, capability: str) -> str | None:
    """What to install for a first-party provider type, as one sentence, if the type is known."""
    known = KNOWN_PROVIDER_TYPES.get(type_name)
    if known is None or capability not in known[1]:
        return None
    distribution = known[0]
    how = how_to_install(distribution)
    if how is None:
        return f"{distribution} will provide it; it is not released yet"
    return f"install {distribution} {how}"
