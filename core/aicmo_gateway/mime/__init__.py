"""Turn port records into RFC 5322 messages and received messages into ``Reply`` records.

Public: mail plugins (SMTP, IMAP, Maildir) share these helpers so that every
provider writes and reads messages the same way. The standard library's ``email``
package does the work (:mod:`aicmo_gateway.mime.fast` writes what it would, faster);
flufl.bounce's detectors read the non-standard bounce formats.

* :func:`build_message` renders an :class:`~aicmo_gateway.ports.EmailMessage`.
* :func:`render_message` gives the bytes to send or store for a record in one step, the
  common shapes without the ``email`` package's objects (the same bytes, 10 to 150 times sooner);
  senders use it rather than ``render(build_message(...))``.
* :func:`render` flattens a built message to the bytes to send or store, and checks them
  (no injected header, no control character, no line over 998 octets); senders write
  only what it returns.
* :func:`message_id_for_key` derives a stable Message-ID from an idempotency key.
* :func:`parse_reply` parses raw bytes into a :class:`~aicmo_gateway.ports.Reply`,
  never raising and in time bounded by the message's size (the limits are in
  :mod:`aicmo_gateway.mime.limits`): what cannot be parsed, or lies beyond a
  limit, is listed in ``Reply.warnings``. It also tells bounces, complaints and
  auto-replies from human replies (:mod:`aicmo_gateway.mime.classify`).
"""

from aicmo_gateway.mime.build import build_message, message_id_for_key, render_message
from aicmo_gateway.mime.parse import parse_reply
from aicmo_gateway.mime.render import POLICY, SMTP_POLICY, render
from aicmo_gateway.mime.text import html_to_text

__all__ = [
    "POLICY",
    "SMTP_POLICY",
    "build_message",
    "html_to_text",
    "message_id_for_key",
    "parse_reply",
    "render",
    "render_message",
]
