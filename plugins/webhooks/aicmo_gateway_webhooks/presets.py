"""The presets: what ``preset = "make" | "zapier" | "n8n"`` changes.

A preset checks that the URL is one of the platform's webhook URLs (a Zapier URL pasted under
``preset = "make"`` is caught when the config is loaded) and turns the platform's refusals
into errors that say what to do there. Events, headers, signatures and the SSRF guard are the
same for every preset. From the platforms' documentation (November 2026):

* Make, help "Webhooks" (apps.make.com/gateway): custom webhook URLs are
  ``https://hook.<zone>.make.com/<token>`` (older ones ``hook.integromat.com``); API keys
  attached to a webhook are sent in the ``x-make-apikey`` header.
* Zapier, help "Webhooks by Zapier rate limits": Catch Hook URLs are
  ``https://hooks.zapier.com/hooks/catch/<user>/<hook>/``; 429 above 10,000 requests per
  5 minutes per user (1,000 per Zap on legacy URLs without the user id); a 200 may be processed
  minutes later, and a 200 is answered even when the Zap is off.
* n8n, docs "Webhook node" and "Workflow development": production URLs ``<base>/webhook/<path>``
  answer while the workflow is active; test URLs ``<base>/webhook-test/<path>`` only for 120
  seconds after "Listen for test event"; the node authenticates with Basic Auth, Header Auth
  (any header name and value) or JWT; an unknown or inactive webhook answers 404.
"""

from __future__ import annotations

import attrs

__all__ = ["GENERIC", "PRESETS", "Preset"]


@attrs.frozen
class Preset:
    """One platform's URL check and hints."""

    name: str
    #: the URL's host must be one of these or end with ``.`` + one of them; empty: any host
    hosts: tuple[str, ...]
    #: how the platform's URLs look, for the error when the host does not match
    example: str
    #: what to do after a 401 or 403
    auth_hint: str
    #: what to do after a 404
    missing_hint: str

    def accepts(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return not self.hosts or any(host == h or host.endswith("." + h) for h in self.hosts)


GENERIC = Preset(
    name="",
    hosts=(),
    example="https://hooks.example.com/aicmo",
    auth_hint="the endpoint refused the request's credentials: check the headers key",
    missing_hint="the endpoint does not exist: check the url key",
)

PRESETS: dict[str, Preset] = {
    "make": Preset(
        name="make",
        hosts=("make.com", "integromat.com"),
        example="https://hook.eu1.make.com/<token>",
        auth_hint=(
            "the Make webhook has API keys: send one with "
            "headers = { x-make-apikey = '${MAKE_WEBHOOK_KEY}' }"
        ),
        missing_hint="Make does not know this webhook: it was deleted, or the url is wrong",
    ),
    "zapier": Preset(
        name="zapier",
        hosts=("hooks.zapier.com",),
        example="https://hooks.zapier.com/hooks/catch/<user>/<hook>/",
        auth_hint="Zapier refused the request: copy the Catch Hook URL again from the Zap",
        missing_hint="Zapier does not know this Catch Hook: the Zap was deleted or the URL changed",
    ),
    "n8n": Preset(
        name="n8n",
        hosts=(),
        example="https://n8n.example.com/webhook/<path>",
        auth_hint=(
            "the Webhook node's authentication refused the request: for Header Auth set "
            "headers = { <its header name> = '${N8N_WEBHOOK_TOKEN}' }, for Basic Auth "
            "headers = { Authorization = 'Basic <base64 of user:password>' }"
        ),
        missing_hint=(
            "n8n has no active webhook there: activate the workflow (production URL "
            "/webhook/...); a test URL (/webhook-test/...) listens only for 120 s after "
            "'Listen for test event'"
        ),
    ),
}
