"""The Maildir sender's Message-ID index: which Message-IDs it delivered, as which files.

``<id>\t<key>`` lines in :data:`INDEX_FILE` at the top of the Maildir, appended under an
exclusive lock; a line with an empty key records the intent to write (a sender killed
between its intent and its record leaves a trace). :class:`IndexView` reads it
incrementally.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from aicmo_gateway.builtin.maildir_disk import disk_error

__all__ = ["INDEX_FILE", "IndexView", "locked_index", "message_id_of", "record"]

#: the sender's record of Message-IDs it delivered (``<id>\t<key>`` lines); mail clients
#: ignore plain files at the top of a Maildir
INDEX_FILE = "aicmo-message-ids"


@contextlib.contextmanager
def locked_index(maildir: Path) -> Iterator[IO[str]]:
    """The Message-ID index of ``maildir``, open for appending under an exclusive lock."""
    try:
        handle = open(maildir / INDEX_FILE, "a+", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise disk_error(
            exc, f"maildir {str(maildir)!r} is not writable", "check the folder"
        ) from exc
    with handle:
        try:
            import fcntl
        except ImportError:  # not on POSIX: concurrent senders may duplicate a retry
            yield handle
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class IndexView:
    """The Message-ID index as this sender has read it: a map kept up to date incrementally.

    The index only grows (other senders, in this process or others, append to it under the
    same lock), so each look-up reads just the bytes appended since the last one: a send costs
    the same with a million messages in the Maildir as with ten. A file that shrank or was
    replaced (another inode) is read again from the start.
    """

    def __init__(self) -> None:
        #: Message-ID -> its file's key ("" while only the intent to write it was recorded)
        self.keys: dict[str, str] = {}
        self.offset = 0
        self.identity: tuple[int, int] | None = None

    def find(self, index: IO[str], message_id: str) -> tuple[str | None, bool]:
        """The key recorded for ``message_id``, and whether an intent (no key yet) was seen."""
        self._catch_up(index)
        key = self.keys.get(message_id)
        if key is None:
            return None, False
        return (key or None), True

    def _catch_up(self, index: IO[str]) -> None:
        index.flush()
        fd = index.fileno()
        stat = os.fstat(fd)
        identity = (stat.st_dev, stat.st_ino)
        if identity != self.identity or stat.st_size < self.offset:
            self.keys.clear()
            self.offset, self.identity = 0, identity
        if stat.st_size == self.offset:
            return
        data = os.pread(fd, stat.st_size - self.offset, self.offset)
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        self.offset += end
        keys = self.keys
        for line in data[:end].decode("utf-8", "replace").splitlines():
            known, _, key = line.partition("\t")
            if not keys.get(known):  # the first recorded key wins: that file was delivered
                keys[known] = key


def record(index: IO[str], message_id: str, key: str) -> None:
    """Append ``message_id``'s line (a failure is ignored: de-duplication is a convenience)."""
    try:
        index.write(f"{message_id}\t{key}\n")
        index.flush()
    except OSError:  # de-duplication is a convenience: never fail a delivery for it
        pass


def message_id_of(path: Path) -> str | None:
    """The Message-ID header of the message file at ``path`` (headers only are read)."""
    try:
        with open(path, "rb") as handle:
            for raw in handle:
                if raw in (b"\n", b"\r\n"):
                    return None
                name, _, value = raw.partition(b":")
                if name.strip().lower() == b"message-id":
                    return value.strip().decode("ascii", "replace")
    except OSError:
        return None
    return None
