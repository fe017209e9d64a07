"""The ``[pipeline]`` table: how ``aicmo-gateway pipeline run`` treats leads.

Read by :class:`aicmo_gateway.config.tables.ConfigLoader`; every problem names the key and the
fix. The pipeline itself lives in :mod:`aicmo_gateway.pipeline`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.config_values import BadValue, Range, key_part, read_bool, read_number, shown

if TYPE_CHECKING:
    from aicmo_gateway.config.tables import ConfigLoader

__all__ = ["COLUMN_FIELDS", "CONCURRENCY", "PIPELINE_KEYS", "PipelineSettings", "read_pipeline"]

PIPELINE_KEYS = (
    "campaign",
    "sender",
    "reply_to",
    "subject",
    "template",
    "html_template",
    "send_unknown",
    "send_risky",
    "concurrency",
    "journal",
    "webhook_event",
    "columns",
)
#: the lead fields a CSV column may be mapped to with ``[pipeline.columns]``
COLUMN_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "domain",
    "title",
    "phone",
    "website",
    "linkedin_url",
)
#: the allowed values of ``[pipeline] concurrency``
CONCURRENCY = Range(1, 256, whole=True)
_CAMPAIGN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EVENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")

DEFAULT_SUBJECT = "{{ lead.company or 'Your team' }} and aicmo-gateway"
DEFAULT_BODY = """\
Hi {{ lead.first_name or 'there' }},

I noticed {{ lead.company or 'your team' }} is growing, and thought a short note might help.
Would you have fifteen minutes next week to talk about how you send your outreach?

Best regards,
{{ sender.name or 'The aicmo-gateway pipeline' }}
"""


@attrs.frozen
class PipelineSettings:
    """What ``[pipeline]`` configures (every key has a default)."""

    #: part of every idempotency key: a new campaign on the same leads sends again
    campaign: str = "outreach"
    sender: str | None = None
    reply_to: str | None = None
    #: Jinja2 source of the subject line
    subject: str = DEFAULT_SUBJECT
    #: the Jinja2 template files of the text and HTML bodies (``None``: the built-in text)
    template: Path | None = None
    html_template: Path | None = None
    #: whether a lead whose verdict is ``unknown`` (or whose verification failed) is emailed
    send_unknown: bool = True
    #: whether a lead whose verdict is ``risky`` (role account, disposable domain) is emailed
    send_risky: bool = False
    concurrency: int = 8
    #: the run journal (SQLite); ``None``: ``pipeline.db`` next to the config file
    journal: Path | None = None
    webhook_event: str = "lead.contacted"
    #: lead field -> the CSV header that holds it
    columns: Mapping[str, str] = attrs.field(factory=dict, converter=MappingProxyType)


def _path(loader: ConfigLoader, table: Mapping[str, Any], key: str, base: Path | None) -> Any:
    value, _ = loader.resolve(table.get(key), f"pipeline.{key}")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        loader.problem(
            f"pipeline.{key}", f"expected a file path, got {shown(value)}", f'write {key} = "..."'
        )
        return None
    path = Path(value)
    return base / path if not path.is_absolute() and base is not None else path


def _columns(loader: ConfigLoader, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        loader.problem(
            "pipeline.columns",
            f"must be a table, got {shown(value)}",
            'write [pipeline.columns] with lines such as email = "E-mail address"',
        )
        return {}
    result = {}
    for field, header in value.items():
        if field not in COLUMN_FIELDS:
            close = difflib.get_close_matches(str(field), COLUMN_FIELDS, n=1)
            loader.problem(
                f"pipeline.columns.{key_part(field)}",
                "is not a lead field",
                (f"did you mean {close[0]!r}? " if close else "")
                + f"the fields are: {', '.join(COLUMN_FIELDS)} (other columns reach the "
                "template under their own header name)",
            )
        elif not isinstance(header, str) or not header.strip():
            loader.problem(
                f"pipeline.columns.{field}",
                f"expected the CSV header's text, got {shown(header)}",
                f'write {field} = "the header of that column"',
            )
        else:
            result[field] = header.strip()
    return result


def read_pipeline(
    loader: ConfigLoader, table: Mapping[str, Any], base: Path | None
) -> PipelineSettings:
    """Check the ``[pipeline]`` table; report problems to ``loader``."""
    loader.unknown_keys(
        table, PIPELINE_KEYS, "pipeline", "a pipeline setting", "the [pipeline] keys are"
    )
    values: dict[str, Any] = {}
    for key, pattern, what, rule, example in (
        (
            "campaign",
            _CAMPAIGN,
            "a campaign name",
            "use letters, digits, '_', '.' or '-' (at most 64), e.g.",
            'campaign = "spring-outreach"',
        ),
        (
            "webhook_event",
            _EVENT,
            "an event type",
            "use a dotted name such as",
            'webhook_event = "lead.contacted"',
        ),
    ):
        name = loader.text(table, "pipeline", key, example)
        if name is None:
            continue
        if pattern.match(name):
            values[key] = name
        else:
            loader.problem(f"pipeline.{key}", f"{shown(name)} is not {what}", f"{rule} {example}")
    for key, example in (
        ("sender", 'sender = "Ada <ada@example.com>"'),
        ("reply_to", 'reply_to = "sales@example.com"'),
        ("subject", 'subject = "A question for {{ lead.company }}"'),
    ):
        text = loader.text(table, "pipeline", key, example)
        if text is not None:
            values[key] = text
    for key in ("template", "html_template", "journal"):
        path = _path(loader, table, key, base)
        if path is not None:
            values[key] = path
    for key in ("send_unknown", "send_risky"):
        if key in table:
            try:
                values[key] = read_bool(loader.resolve(table[key], f"pipeline.{key}")[0], key)
            except BadValue as bad:
                loader.problem(f"pipeline.{key}", bad.message, bad.fix)
    if "concurrency" in table:
        raw, _ = loader.resolve(table["concurrency"], "pipeline.concurrency")
        try:
            values["concurrency"] = read_number(raw, CONCURRENCY, "concurrency", 8)
        except BadValue as bad:
            loader.problem("pipeline.concurrency", bad.message, bad.fix)
    if "columns" in table:
        values["columns"] = _columns(loader, table["columns"])
    return PipelineSettings(**values)
