"""First-party plugin distributions, so an unknown provider type can name what to install."""

from __future__ import annotations

#: provider type name -> (distribution, capabilities it serves)
KNOWN_PROVIDER_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "smtp": ("aicmo-gateway-smtp", ("email_sending",)),
    "gmail": ("aicmo-gateway-smtp", ("email_sending",)),
    "imap": ("aicmo-gateway-imap", ("reply_fetching",)),
    "airtable": ("aicmo-gateway-airtable", ("crm_sync",)),
    "hubspot": ("aicmo-gateway-hubspot", ("crm_sync",)),
    "apollo": ("aicmo-gateway-apollo", ("lead_enrichment",)),
    "dropcontact": ("aicmo-gateway-dropcontact", ("lead_enrichment", "email_verification")),
    "dns": ("aicmo-gateway-verify", ("email_verification",)),
    "mastodon": ("aicmo-gateway-mastodon", ("social_posting",)),
    "webhook": ("aicmo-gateway-webhooks", ("webhook_dispatch",)),
    "make": ("aicmo-gateway-webhooks", ("webhook_dispatch",)),
    "zapier": ("aicmo-gateway-webhooks", ("webhook_dispatch",)),
    "n8n": ("aicmo-gateway-webhooks", ("webhook_dispatch",)),
}


def install_hint(type_name: str, capability: str) -> str | None:
    """The ``pip install`` line for a first-party plugin providing this type, if any."""
    known = KNOWN_PROVIDER_TYPES.get(type_name)
    if known is None or capability not in known[1]:
        return None
    return f"pip install {known[0]}"
