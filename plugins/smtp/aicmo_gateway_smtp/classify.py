"""SMTP failures in the gateway's error taxonomy, so the chain knows whether to fall back.

Every failure says where it happened (``stage``) because the same reply means
different things at different steps: a 550 to RCPT is a bad address, a 550 to
MAIL is a sender this account may not use, a 550 after the message content is a
rejected message. A lost connection is ``Unavailable`` until the message content
has been written, and ``Ambiguous`` from then until the server's final reply.

=====================================================  =====================
what happened                                          error
=====================================================  =====================
refused connection, DNS failure, bad greeting, TLS     ``Unavailable``
failure, timeout or disconnect before the content
4xx reply 421, 450, 451, 452                           ``RateLimited``
other 4xx reply                                        ``Unavailable``
"sending limit/quota exceeded" (e.g. 550 5.4.5)        ``QuotaExhausted``
AUTH refused (530, 534, 535, 538 or any 5xx to AUTH),  ``AuthError``
AUTH not offered, 5xx to MAIL (sender not allowed)
5xx to RCPT for every recipient                        ``InvalidInput``
  ... all of them policy refusals (530, 5.7.x)         ``AuthError``
5xx to RCPT for some recipients                        success; ``refused``
550, 552, 553, 554 after the content                   ``InvalidInput``
500, 501 or 5.5.2/5.5.4/5.3.4/5.6.x after the content  ``InvalidInput``
(``500 Line too long``: the message is malformed)
552 to MAIL, message larger than the server's SIZE     ``InvalidInput``
other 5xx                                              ``Unavailable``
timeout or disconnect after the content was sent       ``Ambiguous``
=====================================================  =====================

This module knows replies and stages; it imports no SMTP client.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping

from aicmo_gateway.errors import (
    Ambiguous,
    AuthError,
    InvalidInput,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Unavailable,
)

__all__ = [
    "AUTH_CODES",
    "CONTENT_MALFORMED",
    "CONTENT_REJECTED",
    "SLOW_DOWN",
    "after_content",
    "network_failure",
    "recipients_refused",
    "reply_error",
]

#: temporary replies that ask the client to come back later
SLOW_DOWN = frozenset({421, 450, 451, 452})
#: replies that mean the login is missing or wrong
AUTH_CODES = frozenset({530, 534, 535, 538})
#: final replies to the message content that reject the message itself
CONTENT_REJECTED = frozenset({550, 552, 553, 554})
#: replies to the message content that call it malformed (``500 Line too long``, ``501``)
CONTENT_MALFORMED = frozenset({500, 501})
#: RFC 3463 codes that blame the message: syntax (5.5.2, 5.5.4), size (5.3.4), media (5.6.x)
_BAD_CONTENT = re.compile(r"^5\.(?:5\.[24]|3\.4|6\.\d+)$")

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_QUOTA = re.compile(r"sending (?:limit|quota)|daily (?:user )?(?:sending )?(?:limit|quota)", re.I)
_MAX_TEXT = 300

#: what each stage was doing, for messages
_STAGES = {
    "greeting": "greeting",
    "ehlo": "EHLO",
    "starttls": "STARTTLS",
    "auth": "AUTH",
    "mail": "MAIL FROM",
    "rcpt": "RCPT TO",
    "data": "DATA",
    "content": "the message content",
}


def _text(message: str) -> str:
    text = " ".join(message.split())
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "..."


def enhanced_code(message: str) -> str | None:
    """The RFC 3463 enhanced status code at the start of a reply's text (``5.7.1``)."""
    found = _ENHANCED.match(message)
    return ".".join(found.groups()) if found else None


def _is_quota(code: int, message: str) -> bool:
    enhanced = enhanced_code(message) or ""
    return (enhanced.endswith(".4.5") and code >= 400) or bool(_QUOTA.search(message))


def reply_error(
    code: int, message: str, *, stage: str, server: str, what: str | None = None
) -> ProviderError:
    """The error for a negative reply ``code message`` to ``stage`` from ``server``.

    ``what`` replaces the opening of the error's text (which reply, from whom).
    """
    what = what or f"{server} answered {code} {_text(message)} to {_STAGES.get(stage, stage)}"
    if _is_quota(code, message):
        return QuotaExhausted(f"{what}: the account's sending quota is spent")
    if 400 <= code < 500:
        if code in SLOW_DOWN:
            return RateLimited(f"{what}: the server asks to retry later", retry_after=None)
        return Unavailable(f"{what}: a temporary failure; nothing was sent")
    if stage == "auth" or code in AUTH_CODES:
        return AuthError(
            f"{what}: the login was refused; check username and password (for Gmail and "
            "Microsoft 365 an app password, not the account password)"
        )
    if stage == "mail":
        if code == 552:
            return InvalidInput(f"{what}: the message is larger than the server accepts")
        return AuthError(
            f"{what}: this account may not send as this sender; set the message's sender "
            "or default_sender to an address the account owns"
        )
    if stage == "content" and code in CONTENT_REJECTED:
        return InvalidInput(f"{what}: the server rejected the message")
    if stage == "content" and (
        code in CONTENT_MALFORMED or _BAD_CONTENT.match(enhanced_code(message) or "")
    ):
        return InvalidInput(
            f"{what}: the server found the message malformed (a line too long, a syntax or "
            "media error); no server would take it as it is, so check its content"
        )
    return Unavailable(f"{what}; nothing was sent")


def recipients_refused(refused: Mapping[str, tuple[int, str]], *, server: str) -> ProviderError:
    """The error when the server refused every recipient (``address -> (code, text)``)."""
    listed = "; ".join(f"{addr}: {code} {_text(text)}" for addr, (code, text) in refused.items())
    what = f"{server} refused every recipient ({listed})"
    codes = list(refused.values())
    quota = [(code, text) for code, text in codes if _is_quota(code, text)]
    temporary = quota or [(code, text) for code, text in codes if 400 <= code < 500]
    if temporary:  # someone may take them later: not a verdict on the input
        code, text = temporary[0]
        return reply_error(code, text, stage="rcpt", server=server, what=what)
    policy = all(
        code in AUTH_CODES or (enhanced_code(text) or "").startswith("5.7.") for code, text in codes
    )
    if policy:
        return AuthError(
            f"{what}: the server does not relay for this client; check username and password "
            "or the relay's allowed senders"
        )
    return InvalidInput(f"{what}; nothing was sent")


def _ssl_reason(exc: ssl.SSLError) -> str:
    return str(getattr(exc, "reason", None) or exc)


def _reason(exc: BaseException) -> str:
    """The most telling text in an exception and its causes (TLS errors hide in causes)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, ssl.SSLCertVerificationError):
            detail = getattr(current, "verify_message", None) or _ssl_reason(current)
            return (
                f"the server's TLS certificate was not trusted ({detail}); set ca_file to "
                "the CA bundle that signed it, or verify_certificates = false for a test server"
            )
        if isinstance(current, ssl.SSLError):
            return f"the TLS handshake failed ({_ssl_reason(current)})"
        current = current.__cause__ or current.__context__
    text = str(exc) or type(exc).__name__
    return _text(text)


def network_failure(exc: BaseException, *, stage: str, server: str) -> Unavailable:
    """The error for a refused connection, timeout or disconnect before the content was sent."""
    return Unavailable(
        f"{server}: {_reason(exc)} (during {_STAGES.get(stage, stage)}); nothing was sent"
    )


def after_content(exc: BaseException, *, server: str) -> Ambiguous:
    """The error for a timeout or disconnect after the content was sent, before the reply."""
    return Ambiguous(
        f"{server}: {_reason(exc)} after the message content was sent and before the server "
        "confirmed it; the message may have been delivered"
    )
