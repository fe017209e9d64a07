"""The shared HTTP layer for adapters of HTTP APIs, on httpx.

Public: plugins build one :class:`HttpClient` per provider instance and get, for every request,
a per-request timeout, no redirects, a bounded response size, ``Retry-After`` honoured, HTTP
statuses and transport errors mapped to the core's error taxonomy (a timeout after a write's body
was sent is :class:`~aicmo_gateway.Ambiguous`), and secrets kept out of every error and log line.

httpx is imported when the first client is built, so importing this module is cheap; install it
with the core's ``http`` extra (not on PyPI yet: from a checkout of the aicmo-gateway
repository, ``pip install '.[http]'``).

* :class:`HttpClient`: ``await client.request("POST", "/v1/things", json=..., write=True)``.
* :func:`error_for_status`: the error a status means (for adapters that read responses themselves).
* :func:`parse_retry_after`: seconds from a ``Retry-After`` value (seconds or an HTTP date).
* :func:`check_base_url`: the settings validator every adapter's ``base_url`` uses.
* :class:`RequestPacer`: a vendor's request rate and 429 lockouts, shared in the process by every
  client of one account or resource (``RequestPacer.shared(key, limit, period)``).

Each name is imported from its module on first use, so a plugin's settings module can take
:func:`check_base_url` without loading the client (and loguru) or the pacer (and asyncio).
"""

from aicmo_gateway.lazy import attach

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from aicmo_gateway.http.client import HttpClient, HttpResponse
    from aicmo_gateway.http.pacing import RequestPacer, fingerprint
    from aicmo_gateway.http.status import error_for_status, parse_retry_after, retry_after_of
    from aicmo_gateway.http.urls import check_base_url

__getattr__, __dir__ = attach(
    __name__,
    {
        "aicmo_gateway.http.client": (
            "HttpClient",
            "HttpResponse",
        ),
        "aicmo_gateway.http.pacing": (
            "RequestPacer",
            "fingerprint",
        ),
        "aicmo_gateway.http.status": (
            "error_for_status",
            "parse_retry_after",
            "retry_after_of",
        ),
        "aicmo_gateway.http.urls": ("check_base_url",),
    },
)

__all__ = [
    "HttpClient",
    "HttpResponse",
    "RequestPacer",
    "check_base_url",
    "error_for_status",
    "fingerprint",
    "parse_retry_after",
    "retry_after_of",
]
