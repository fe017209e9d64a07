"""What an endpoint's answer means for the chain.

=====================================  =====================================================
answer                                 raised
=====================================  =====================================================
2xx                                    nothing: delivered
3xx                                    ``AuthError``: redirects are not followed; set the url
                                       to the final address
400, 413, 414, 422                     ``InvalidInput``: the endpoint refuses this event
401, 403                               ``AuthError`` with the preset's hint (credentials)
404                                    ``AuthError`` with the preset's hint (no such webhook)
410 Gone                               :class:`Gone`: the endpoint disables itself
429, 503 with ``Retry-After``          ``RateLimited`` with that wait
503 without                            ``Unavailable``: refused before doing the work
500, 502, 504, other 5xx               ``Ambiguous``: it may have processed the event; the
                                       chain retries here with the same ``webhook-id``
other 4xx                              ``Unavailable``
=====================================  =====================================================
"""

from __future__ import annotations

from aicmo_gateway import AuthError
from aicmo_gateway.http import HttpClient, HttpResponse, error_for_status, retry_after_of
from aicmo_gateway_webhooks.presets import Preset

__all__ = ["Gone", "raise_for"]


class Gone(Exception):
    """The endpoint answered 410 Gone: it asks never to be called again."""


def raise_for(response: HttpResponse, client: HttpClient, preset: Preset) -> None:
    """Raise the error a non-2xx ``response`` means; return for a 2xx answer."""
    status = response.status
    if 200 <= status < 300:
        return
    detail = response.detail()
    said = f"HTTP {status}" + (f": {detail}" if detail else "")
    provider = client.provider
    if 300 <= status < 400:
        where = client.scrub(response.headers.get("location", "elsewhere"))[:200]
        raise AuthError(
            f"{provider}: {said}; the endpoint redirects to {where}, and redirects are not "
            "followed: set url to the address the webhook really lives at",
            provider=provider,
        )
    if status == 410:
        raise Gone(
            f"{provider}: {said}; the endpoint is gone and asked not to be called again, so "
            "it is disabled until the gateway is restarted: fix the url or remove the provider"
        )
    if status in (401, 403):
        raise AuthError(f"{provider}: {said}; {preset.auth_hint}", provider=provider)
    if status == 404:
        raise AuthError(f"{provider}: {said}; {preset.missing_hint}", provider=provider)
    error = error_for_status(
        status,
        f"{provider}: {detail}" if detail else str(provider),
        write=True,
        retry_after=retry_after_of(response.headers),
        provider=provider,
    )
    if error is not None:
        raise error
