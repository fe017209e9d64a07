"""The lead pipeline behind ``aicmo-gateway pipeline run`` (docs/pipeline.md).

For each lead of a CSV file: enrich, verify the address, upsert the contact in the CRM, send
the first outreach email from a template, log it on the contact and fire a ``lead.contacted``
webhook, each through its capability's chain. Jinja2 and rich (the ``pipeline`` extra) are
imported when a run starts.
"""

from __future__ import annotations

__all__: list[str] = []
