"""Standard Webhooks signing: the secret's form, the message id, and the signature header.

From the Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks,
``spec/standard-webhooks.md``): a message carries ``webhook-id`` (unique per message, the same
for every retry of it, so receivers drop duplicates), ``webhook-timestamp`` (integer seconds
since the epoch, of this attempt) and ``webhook-signature``: ``v1,`` then the base64 of
HMAC-SHA256 over ``{webhook-id}.{webhook-timestamp}.{body}``, where the body is the exact bytes
sent. Symmetric secrets are written ``whsec_`` + base64 of 24 to 64 random bytes; the key is the
decoded bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["MAX_ID_LENGTH", "SECRET_PREFIX", "decode_secret", "sign", "webhook_id"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the form of secrets, not one
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
#: the longest ``webhook-id`` sent as is; longer keys are sent as their digest
MAX_ID_LENGTH = 256

_GENERATE = (
    'generate one with: python -c "import base64, secrets; '
    "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\""
)


def decode_secret(text: str) -> bytes:
    """The signing key of a ``whsec_<base64>`` secret; ``ValueError`` naming the fix otherwise.

    Raw strings are refused: receivers that verify with a Standard Webhooks library decode the
    secret as base64, so a passphrase would be read as other bytes there and no signature
    would ever match.
    """
    value = text.strip()
    if not value:
        raise ValueError(f"secret: is empty; set secret = '${{WEBHOOK_SECRET}}' and {_GENERATE}")
    if not value.startswith(SECRET_PREFIX):
        raise ValueError(
            "secret: write it in the Standard Webhooks form 'whsec_' + base64 of 24 to 64 "
            f"random bytes (receivers' libraries decode it that way); {_GENERATE}"
        )
    encoded = value[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "secret: the part after 'whsec_' is not base64 (letters, digits, '+', '/'); "
            f"{_GENERATE}"
        ) from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(
            f"secret: decodes to {len(key)} bytes; Standard Webhooks secrets are "
            f"{MIN_KEY_BYTES} to {MAX_KEY_BYTES} random bytes; {_GENERATE}"
        )
    return key


def webhook_id(key: str) -> str:
    """The ``webhook-id`` for an idempotency key: itself, or a digest when it cannot be sent.

    The id travels in a header and inside the signed content, so it must be printable ASCII
    without spaces; a key that is not, or is longer than :data:`MAX_ID_LENGTH`, is replaced by
    ``msg_`` + its SHA-256 (the same key always gives the same id, so retries still match).
    """
    if 0 < len(key) <= MAX_ID_LENGTH and key.isascii() and key.isprintable() and " " not in key:
        return key
    return "msg_" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>`` over the exact ``body``."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
