"""The plugin: the ``webhook`` dispatcher type.

Registered through ``[project.entry-points.aicmo_gateway] webhooks =
"aicmo_gateway_webhooks.plugin"``. Importing this module is cheap: the hook names the settings
class by module, and httpx is imported when an endpoint makes its first request.
"""

from __future__ import annotations

from typing import Any

from aicmo_gateway import Idempotency, ProviderType, hookimpl

__all__ = ["aicmo_webhook_dispatchers", "webhook_endpoint"]


def webhook_endpoint(**settings: Any) -> Any:
    """Build a ``webhook`` endpoint from its config keys (see ``WebhookSettings``)."""
    from aicmo_gateway_webhooks.endpoint import WebhookEndpoint
    from aicmo_gateway_webhooks.settings import WebhookSettings

    return WebhookEndpoint(WebhookSettings(**settings))


@hookimpl
def aicmo_webhook_dispatchers() -> list[ProviderType]:
    return [
        ProviderType(
            "webhook",
            webhook_endpoint,
            "POSTs signed events (Standard Webhooks) to Make, Zapier, n8n or any endpoint; "
            "retries are safe (webhook-id)",
            settings="aicmo_gateway_webhooks.settings:WebhookSettings",
            idempotency=Idempotency.KEY_HEADER,
            has_check=True,
        )
    ]
