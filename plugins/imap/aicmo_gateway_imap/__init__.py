"""aicmo-gateway-imap: the ``imap`` reply fetcher (Gmail, Microsoft 365, any IMAP server).

Importing this package is cheap: its settings are imported when ``PRESETS`` or
``ImapSettings`` is first used, and the IMAP library only when a provider is built
(``aicmo_gateway_imap.fetcher``). The provider type is registered through the
``aicmo_gateway`` entry point (``aicmo_gateway_imap.plugin``).
"""

from aicmo_gateway.plugin_kit import attach, silence

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from aicmo_gateway_imap.settings import PRESETS, ImapSettings

silence("aicmo_gateway_imap")

__getattr__, __dir__ = attach(
    __name__, {"aicmo_gateway_imap.settings": ("PRESETS", "ImapSettings")}
)

__all__ = ["PRESETS", "ImapSettings"]
