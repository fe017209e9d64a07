"""The Maildir email sender: each message a real RFC 5322 file in a local Maildir.

:class:`MaildirSender` delivers each message with the standard library's :mod:`mailbox`
(written to ``tmp/``, then moved atomically to ``new/``), so any mail client can open it, and
records its Message-ID in the index (:mod:`aicmo_gateway.builtin.maildir_index`) so that a
message is never delivered twice. The reply fetcher on the same folder is
:class:`~aicmo_gateway.builtin.maildir_fetcher.MaildirReplyFetcher` (importable from here
too); file-system failures map to the error taxonomy in
:mod:`aicmo_gateway.builtin.maildir_disk`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from aicmo_gateway.builtin.maildir_disk import disk_error, names, open_maildir
from aicmo_gateway.builtin.maildir_fetcher import MaildirReplyFetcher
from aicmo_gateway.builtin.maildir_index import (
    INDEX_FILE,
    IndexView,
    locked_index,
    message_id_of,
    record,
)
from aicmo_gateway.errors import Unavailable

# mailbox, the MIME layer, loguru and the records load when a message is sent,
# so that listing the built-in provider types (``aicmo-gateway plugins``) stays cheap
if TYPE_CHECKING:
    from aicmo_gateway.ports import EmailMessage, SendReceipt

__all__ = ["INDEX_FILE", "MaildirReplyFetcher", "MaildirSender"]


@attrs.frozen
class MaildirSender:
    """Delivers messages as files into a Maildir.

    A message that already has a Message-ID this sender delivered is not
    delivered again: the receipt of the first delivery is returned.
    """

    path: Path = attrs.field(converter=Path)
    #: the domain of generated Message-IDs
    domain: str = "localhost"
    #: the From address for messages without a sender (default ``aicmo-gateway@<domain>``, or
    #: ``aicmo-gateway@localhost.localdomain`` while ``domain`` is a bare host name)
    default_sender: str | None = None
    #: create the Maildir (and its parents) when missing
    create: bool = True
    #: the Message-ID index as read so far (each send reads only what was appended since)
    _seen: IndexView = attrs.field(factory=lambda: IndexView(), init=False, repr=False, eq=False)

    def check(self) -> None:
        """Raise a ``ProviderError`` unless the Maildir exists (or can be made) and is writable."""
        open_maildir(self.path, self.create)
        probe = self.path / "tmp" / f".aicmo-check-{os.getpid()}"
        try:
            # created as mailbox creates a message's file, so the check meets the same refusals
            os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            os.remove(probe)
        except OSError as exc:
            raise disk_error(
                exc, f"maildir {str(self.path)!r} is not writable", "check the folder"
            ) from exc

    def send(self, message: EmailMessage) -> SendReceipt:
        import mailbox

        from aicmo_gateway.logs import call_logger
        from aicmo_gateway.mime import render_message

        logger = call_logger()

        box = open_maildir(self.path, self.create)
        # checked once; raises InvalidInput rather than write an injected file
        data, message_id = render_message(
            message,
            default_sender=self.default_sender or _default_sender(self.domain),
            domain=self.domain,
        )
        recipients = message.recipients  # may raise too: before anything is written
        with locked_index(self.path) as index:
            if message.message_id:
                key, pending = self._seen.find(index, message_id)
                if key is None and pending:
                    # a sender stopped (killed) between its intent and its record: the file
                    # may be in the Maildir; look for it, once, before writing it again
                    key = self._scan_for(message_id)
                    if key is not None:
                        record(index, message_id, key)
                if key is not None:
                    return self._receipt(recipients, message_id, self._locate(key))
                # the intent first: a crash before the record below leaves a trace
                record(index, message_id, "")
            try:
                key = box.add(data)
            except OSError as exc:
                raise disk_error(
                    exc,
                    f"maildir {str(self.path)!r}: the message could not be written",
                    "check the folder",
                ) from exc
            except mailbox.Error as exc:
                raise Unavailable(
                    f"maildir {str(self.path)!r}: the message could not be written: {exc}"
                ) from exc
            try:
                index.write(f"{message_id}\t{key}\n")
                index.flush()
            except OSError as exc:  # delivered all the same; only de-duplication is lost
                logger.bind(provider_type="maildir").warning(
                    "could not record {} in {}: {}", message_id, index.name, exc
                )
        logger.bind(provider_type="maildir").debug("delivered {} as {}", message_id, key)
        return self._receipt(recipients, message_id, self.path / "new" / key)

    def _receipt(
        self, recipients: tuple[str, ...], message_id: str, where: Path | None
    ) -> SendReceipt:
        from aicmo_gateway.ports import SendReceipt

        location = str(where) if where is not None else None
        return SendReceipt(message_id=message_id, accepted=recipients, location=location)

    def _scan_for(self, message_id: str) -> str | None:
        """The key of a delivered file whose Message-ID is ``message_id`` (reads every one)."""
        for sub in ("new", "cur"):
            for name in names(self.path / sub):
                if message_id_of(self.path / sub / name) == message_id:
                    return name.split(":")[0]
        return None

    def _locate(self, key: str) -> Path | None:
        for sub in ("new", "cur"):
            for name in names(self.path / sub):
                if name.split(":")[0] == key:
                    return self.path / sub / name
        return None


def _default_sender(domain: str) -> str:
    """A From address valid as a mail address: a bare host name gets ``.localdomain``."""
    return f"aicmo-gateway@{domain}" if "." in domain else f"aicmo-gateway@{domain}.localdomain"
