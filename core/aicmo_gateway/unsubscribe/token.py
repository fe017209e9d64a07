"""Signed unsubscribe tokens: who to suppress and from which list, HMAC-SHA256 signed.

A token is ``<payload>.<signature>``, both URL-safe base64: the payload is the recipient and the
list as JSON, the signature an HMAC of it under the current secret. Tokens never expire (RFC
8058 asks that an unsubscribe link keep working); a rotated-out secret still verifies when it is
listed in ``[email] unsubscribe_old_secrets``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

import attrs

from aicmo_gateway.secret import Secret
from aicmo_gateway.state.suppression import normalize

__all__ = ["Signer", "TokenError", "Unsubscription"]

_CONTEXT = b"aicmo-gateway unsubscribe v1\x00"
_MAX_TOKEN = 1000


class TokenError(ValueError):
    """A token that is malformed, or not signed by any of the configured secrets."""


@attrs.frozen
class Unsubscription:
    """What a valid token says: this recipient leaves this list (``""``: every list)."""

    recipient: str
    list_id: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Makes tokens with the current secret; reads tokens made with it or an older one."""

    def __init__(self, secret: Secret | str, old_secrets: Sequence[Secret | str] = ()) -> None:
        keys = [secret, *old_secrets]
        self._keys = [(k.reveal() if isinstance(k, Secret) else k).encode() for k in keys]

    def __repr__(self) -> str:
        return f"Signer(secrets=<{len(self._keys)} hidden>)"

    def _sign(self, key: bytes, payload: str) -> str:
        return _b64(hmac.new(key, _CONTEXT + payload.encode("ascii"), hashlib.sha256).digest())

    def token(self, recipient: str, list_id: str = "") -> str:
        """The token for ``recipient`` leaving ``list_id``."""
        body = {"r": normalize(recipient)}
        if list_id:
            body["l"] = list_id
        payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode())
        return f"{payload}.{self._sign(self._keys[0], payload)}"

    def read(self, token: str) -> Unsubscription:
        """What ``token`` says; :class:`TokenError` when it is not one of ours."""
        if (
            not isinstance(token, str)
            or len(token) > _MAX_TOKEN
            or not token.isascii()
            or token.count(".") != 1
        ):
            raise TokenError("not an unsubscribe token")
        payload, signature = token.split(".")
        given = signature.encode("ascii")
        if not any(
            hmac.compare_digest(self._sign(key, payload).encode(), given) for key in self._keys
        ):
            raise TokenError("the token's signature does not match: it was altered or forged")
        try:
            body = json.loads(_unb64(payload))
            recipient, list_id = body["r"], body.get("l", "")
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise TokenError("the token's payload cannot be read") from None
        if not isinstance(recipient, str) or not isinstance(list_id, str):
            raise TokenError("the token's payload cannot be read")
        return Unsubscription(recipient, list_id)
