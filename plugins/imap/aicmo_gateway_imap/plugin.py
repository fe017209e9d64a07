"""The plugin module behind the ``imap`` entry point: one hook, the ``imap`` provider type.

Importing it, and calling the hook at discovery, loads no IMAP library: the
factory imports :mod:`aicmo_gateway_imap.fetcher` when a provider is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aicmo_gateway import ProviderType, hookimpl

if TYPE_CHECKING:
    from aicmo_gateway_imap.fetcher import ImapReplyFetcher


def create(**settings: Any) -> ImapReplyFetcher:
    """The ``imap`` type's factory: settings as keyword arguments, see ``ImapSettings``."""
    from aicmo_gateway_imap.fetcher import ImapReplyFetcher  # the IMAP library loads here

    return ImapReplyFetcher.from_settings(**settings)


@hookimpl
def aicmo_reply_fetchers() -> list[ProviderType]:
    return [
        ProviderType(
            "imap",
            create,
            "reads new messages from an IMAP mailbox (UID cursor, read-only, optional IDLE)",
            settings="aicmo_gateway_imap.settings:ImapSettings",
            has_check=True,
        )
    ]
