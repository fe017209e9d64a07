"""aicmo-gateway-imap: the ``imap`` reply fetcher (Gmail, Microsoft 365, any IMAP server).

Importing this package is cheap: the IMAP library is imported only when a
provider is built (``aicmo_gateway_imap.fetcher``). The provider type is
registered through the ``aicmo_gateway`` entry point (``aicmo_gateway_imap.plugin``).
"""

from aicmo_gateway.logs import silence
from aicmo_gateway_imap.settings import PRESETS, ImapSettings

silence("aicmo_gateway_imap")

__all__ = ["PRESETS", "ImapSettings"]
