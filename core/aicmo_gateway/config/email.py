"""The ``[email]`` table: the suppression list and one-click unsubscribe.

Read by :class:`aicmo_gateway.config.tables.ConfigLoader`; every problem names the key and the
fix, and the secrets are never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aicmo_gateway.config_values import shown
from aicmo_gateway.secret import Secret
from aicmo_gateway.state.suppression import shown_dsn

if TYPE_CHECKING:
    from aicmo_gateway.config.tables import ConfigLoader

__all__ = [
    "DEFAULT_SOFT_BOUNCE_LIMIT",
    "DEFAULT_SUPPRESSION",
    "EMAIL_KEYS",
    "EmailSettings",
    "read_email",
]

#: the suppression list when ``[email] suppression`` is left out and the config is a file
DEFAULT_SUPPRESSION = "sqlite:///aicmo-suppression.db"
EMAIL_KEYS = (
    "suppression",
    "unsubscribe_url",
    "unsubscribe_mailto",
    "unsubscribe_secret",
    "unsubscribe_old_secrets",
    "suppress_from_replies",
    "soft_bounce_limit",
)
_MIN_SECRET = 16
#: soft bounces in a row that suppress an address, by default, and the largest allowed
DEFAULT_SOFT_BOUNCE_LIMIT = 3
_MAX_SOFT_BOUNCE_LIMIT = 100
_KEY_HOWTO = (
    'write unsubscribe_secret = "${UNSUBSCRIBE_SECRET}" and export a random value, e.g. from '
    "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


@attrs.frozen(repr=False)
class EmailSettings:
    """What ``[email]`` configures. ``suppression`` is a DSN, or ``None`` for no list."""

    suppression: str | None = None
    #: relative ``sqlite:///`` paths are relative to this folder (the config file's)
    base_dir: Path | None = None
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    unsubscribe_secret: Secret | None = None
    unsubscribe_old_secrets: tuple[Secret, ...] = ()
    #: fetched bounces, complaints and mails to ``unsubscribe_mailto`` fill the list
    suppress_from_replies: bool = True
    #: soft bounces in a row that suppress an address (``0``: soft bounces never do)
    soft_bounce_limit: int = DEFAULT_SOFT_BOUNCE_LIMIT

    def __repr__(self) -> str:
        dsn = shown_dsn(self.suppression) if self.suppression else None
        return (
            f"EmailSettings(suppression={dsn!r}, unsubscribe_url={self.unsubscribe_url!r}, "
            f"unsubscribe_mailto={self.unsubscribe_mailto!r}, unsubscribe_secret="
            f"{'********' if self.unsubscribe_secret else None})"
        )

    @property
    def unsubscribe(self) -> bool:
        """Whether marketing messages get ``List-Unsubscribe`` headers."""
        return bool(self.unsubscribe_url or self.unsubscribe_mailto)


def _text(loader: ConfigLoader, table: Mapping[str, Any], key: str, example: str) -> str | None:
    text = loader.text(table, "email", key, example)
    return None if text is None else text.strip()


def _secret(loader: ConfigLoader, value: Any, key: str) -> Secret | None:
    resolved, _ = loader.resolve(value, key)
    if not isinstance(resolved, str):
        loader.problem(key, "expected a secret string", _KEY_HOWTO)
        return None
    if len(resolved) < _MIN_SECRET:
        loader.problem(key, f"is shorter than {_MIN_SECRET} characters", _KEY_HOWTO)
        return None
    return Secret(str(resolved))


def read_email(loader: ConfigLoader, table: Mapping[str, Any], base: Path | None) -> EmailSettings:
    """Check the ``[email]`` table; report problems to ``loader``."""
    loader.unknown_keys(table, EMAIL_KEYS, "email", "an email setting", "the [email] keys are")
    dsn = _text(loader, table, "suppression", 'suppression = "sqlite:///suppression.db"')
    if dsn is None and "suppression" not in table:
        dsn = DEFAULT_SUPPRESSION if base is not None else None
    elif dsn == "off":
        dsn = None
    elif dsn is not None and not dsn.startswith(("sqlite://", "postgresql://", "postgres://")):
        loader.problem(
            "email.suppression",
            f"{shown_dsn(dsn)!r} is not a suppression store",
            'write "sqlite:///suppression.db" (next to this file), "postgresql://user@host/db" '
            '(shared by every worker) or "off"',
        )
    url = _text(loader, table, "unsubscribe_url", '"https://example.com/unsubscribe/{token}"')
    if url is not None and (not url.startswith("https://") or "{token}" not in url):
        loader.problem(
            "email.unsubscribe_url",
            f"{url!r} is not an https: URL with a {{token}} placeholder",
            'write unsubscribe_url = "https://example.com/unsubscribe/{token}" '
            "(RFC 8058 one-click unsubscribe needs HTTPS)",
        )
        url = None
    mailto = _text(loader, table, "unsubscribe_mailto", '"unsubscribe@example.com"')
    if mailto is not None:
        mailto = mailto.removeprefix("mailto:")
        if mailto.count("@") != 1 or any(c in mailto for c in " <>?,\"'"):
            loader.problem(
                "email.unsubscribe_mailto",
                f"{mailto!r} is not an email address",
                'write unsubscribe_mailto = "unsubscribe@example.com"',
            )
            mailto = None
    secret = None
    if "unsubscribe_secret" in table:
        secret = _secret(loader, table["unsubscribe_secret"], "email.unsubscribe_secret")
    elif url or mailto:
        loader.problem(
            "email.unsubscribe_secret",
            "is required with unsubscribe_url or unsubscribe_mailto (it signs the tokens)",
            _KEY_HOWTO,
        )
    old = table.get("unsubscribe_old_secrets", [])
    olds: list[Secret] = []
    if not isinstance(old, list):
        loader.problem(
            "email.unsubscribe_old_secrets",
            "expected a list of secrets",
            'write unsubscribe_old_secrets = ["${OLD_UNSUBSCRIBE_SECRET}"]',
        )
    else:
        for i, item in enumerate(old):
            found = _secret(loader, item, f"email.unsubscribe_old_secrets[{i}]")
            if found is not None:
                olds.append(found)
    from_replies, _ = loader.resolve(
        table.get("suppress_from_replies", True), "email.suppress_from_replies"
    )
    if not isinstance(from_replies, bool):
        loader.problem(
            "email.suppress_from_replies",
            f"expected true or false, got {shown(from_replies)}",
            "write suppress_from_replies = true (the default) or false",
        )
        from_replies = True
    limit, _ = loader.resolve(
        table.get("soft_bounce_limit", DEFAULT_SOFT_BOUNCE_LIMIT), "email.soft_bounce_limit"
    )
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 0 <= limit <= _MAX_SOFT_BOUNCE_LIMIT
    ):
        loader.problem(
            "email.soft_bounce_limit",
            f"expected a whole number from 0 to {_MAX_SOFT_BOUNCE_LIMIT}, got {shown(limit)}",
            f"write soft_bounce_limit = {DEFAULT_SOFT_BOUNCE_LIMIT} (soft bounces in a row "
            "that suppress an address; 0 = never)",
        )
        limit = DEFAULT_SOFT_BOUNCE_LIMIT
    return EmailSettings(
        suppression=dsn,
        suppress_from_replies=from_replies,
        soft_bounce_limit=limit,
        base_dir=base,
        unsubscribe_url=url,
        unsubscribe_mailto=mailto,
        unsubscribe_secret=secret,
        unsubscribe_old_secrets=tuple(olds),
    )
