"""One-click unsubscribe (RFC 8058): signed tokens, the ASGI endpoint, and mailto replies.

- :class:`Signer` makes and reads the tokens in ``List-Unsubscribe`` URLs;
- :class:`UnsubscribeApp` is the ASGI application that answers them (mount it in your web app
  or run ``aicmo-gateway unsubscribe serve``);
- :func:`suppress_from_reply` suppresses the sender of a mail to the ``mailto:`` address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aicmo_gateway.unsubscribe.token import Signer, TokenError, Unsubscription

if TYPE_CHECKING:
    from aicmo_gateway.unsubscribe.app import UnsubscribeApp
    from aicmo_gateway.unsubscribe.reply import suppress_from_reply

__all__ = ["Signer", "TokenError", "UnsubscribeApp", "Unsubscription", "suppress_from_reply"]


def __getattr__(name: str) -> Any:
    if name == "UnsubscribeApp":
        from aicmo_gateway.unsubscribe.app import UnsubscribeApp

        return UnsubscribeApp
    if name == "suppress_from_reply":
        from aicmo_gateway.unsubscribe.reply import suppress_from_reply

        return suppress_from_reply
    raise AttributeError(name)
