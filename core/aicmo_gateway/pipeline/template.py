"""The outreach email's subject and bodies: Jinja2 templates in a sandbox.

Templates see ``lead`` (every CSV column, by field name, enrichment filled in), ``sender``
(``name``, ``email``), ``verification`` (``verdict``, ``reason``) and ``campaign``. They run
in Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` (no attribute access to Python
internals), with undefined fields an error naming the field, so a typo never sends
``Hi ,``. Jinja2 is imported when a pipeline runs (the ``pipeline`` extra).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_ATTRIBUTE = re.compile(r"has no attribute '([^']*)'")
_NAME = re.compile(r"^'([^']*)' is undefined")

__all__ = ["MISSING_EXTRA", "TemplateProblem", "Templates", "require"]

MISSING_EXTRA = (
    "the lead pipeline needs Jinja2 and rich: install the core's pipeline extra from a checkout "
    "of the aicmo-gateway repository (it is not on PyPI yet) with: pip install '.[pipeline]'"
)


class TemplateProblem(ValueError):
    """A template that does not compile, or that names a field a lead does not have."""


def require() -> None:
    """Raise ``ModuleNotFoundError`` naming the extra when Jinja2 or rich is missing."""
    try:
        import jinja2  # noqa: F401
        import rich  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(f"{MISSING_EXTRA} ({exc.name} is not installed)") from None


class Templates:
    """The compiled subject, text body and (optional) HTML body."""

    def __init__(self, subject: str, text: str, html: str | None = None) -> None:
        require()
        from jinja2 import StrictUndefined, TemplateSyntaxError
        from jinja2.sandbox import SandboxedEnvironment

        self._env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self._html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
        try:
            self.subject = self._env.from_string(subject)
            self.text = self._env.from_string(text)
            self.html = self._html_env.from_string(html) if html is not None else None
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                f"template syntax error at line {exc.lineno}: {exc.message}"
            ) from None

    @classmethod
    def load(cls, subject: str, text_path: Path | None, html_path: Path | None) -> Templates:
        from aicmo_gateway.config.pipeline import DEFAULT_BODY

        def read(path: Path) -> str:
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateProblem(
                    f"cannot read the template {str(path)!r}: {exc}; check [pipeline] "
                    "template / html_template"
                ) from None

        text = read(text_path) if text_path is not None else DEFAULT_BODY
        html = read(html_path) if html_path is not None else None
        return cls(subject, text, html)

    def render(self, context: Mapping[str, Any]) -> tuple[str, str, str | None]:
        """``(subject, text, html)`` for one lead; raises :class:`TemplateProblem`."""
        from jinja2 import TemplateError, UndefinedError

        try:
            subject = " ".join(self.subject.render(context).split())
            text = self.text.render(context)
            html = self.html.render(context) if self.html is not None else None
        except UndefinedError as exc:
            raise TemplateProblem(_undefined(exc.message or "", context)) from None
        except TemplateError as exc:
            raise TemplateProblem(f"the template failed: {exc}") from None
        return subject, text, html


def _undefined(message: str, context: Mapping[str, Any]) -> str:
    """``the template uses lead.title, which this lead does not have; lead fields: ...``."""
    attribute = _ATTRIBUTE.search(message)
    if attribute is not None:
        name = attribute.group(1)
        holders = [k for k, v in context.items() if isinstance(v, Mapping) and name not in v]
        owner = "lead" if "lead" in holders else holders[0] if holders else "?"
        fields = context.get(owner) if owner in context else {}
        listed = ", ".join(sorted(fields)) if isinstance(fields, Mapping) else ""
        return (
            f"the template uses {owner}.{name}, which this lead does not have "
            f"({owner} fields: {listed or 'none'}); add a column named {name!r}, or write "
            f"{{{{ {owner}.{name} | default('') }}}}"
        )
    plain = _NAME.search(message)
    name = plain.group(1) if plain else message
    return (
        f"the template uses {name!r}, which is not defined; the names are "
        f"{', '.join(sorted(context))} (a CSV column is lead.<column>)"
    )
