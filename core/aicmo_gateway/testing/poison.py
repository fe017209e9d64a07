"""Poison messages: inputs that once made reply parsing take tens of seconds.

Each function returns the raw bytes of one message (with the given
Message-ID) whose headers are legal in form but enormous in count, so a parser
without limits does work far beyond the message's size: 16,000 RFC 2231
continuations of one parameter (223 KiB, 34 s before the limits), 16,000
``Content-Type`` parameters, 40,000 addresses in ``To:``. A reply fetcher must
return each of them quickly, with warnings, and the messages around them as
well (the reply-fetching conformance suite checks that).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["POISON", "many_addresses", "many_continuations", "many_parameters"]


def _message(message_id: str, headers: str, body: str = "A poisoned reply.\r\n") -> bytes:
    return (
        "From: Mallory <mallory@example.com>\r\nSubject: Re: offer\r\n"
        f"Message-ID: {message_id}\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
        f"MIME-Version: 1.0\r\n{headers}\r\n\r\n{body}"
    ).encode("ascii")


def many_continuations(message_id: str = "<poison-2231@example.com>", n: int = 16_000) -> bytes:
    """One parameter split into ``n`` RFC 2231 sections (``name*0*=...``), 223 KiB."""
    sections = "".join(f"; name*{i}*=x" for i in range(n))
    return _message(message_id, f"To: sales@example.com\r\nContent-Type: text/plain{sections}")


def many_parameters(message_id: str = "<poison-params@example.com>", n: int = 16_000) -> bytes:
    """A ``Content-Type`` with ``n`` parameters, one per folded line."""
    params = "".join(f";\r\n p{i}=v{i}" for i in range(n))
    return _message(message_id, f"To: sales@example.com\r\nContent-Type: text/plain{params}")


def many_addresses(message_id: str = "<poison-to@example.com>", n: int = 40_000) -> bytes:
    """A ``To:`` header with ``n`` addresses, one per folded line."""
    to = ",\r\n ".join(f"u{i}@example.com" for i in range(n))
    return _message(message_id, f"To: {to}\r\nContent-Type: text/plain")


#: every poison shape by name, each taking the Message-ID to give the message
POISON: dict[str, Callable[[str], bytes]] = {
    "rfc2231-continuations": many_continuations,
    "content-type-parameters": many_parameters,
    "to-addresses": many_addresses,
}
