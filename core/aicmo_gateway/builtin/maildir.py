"""An email sender and a reply fetcher on a local Maildir (``tmp/``, ``new/``, ``cur/``).

:class:`MaildirSender` delivers each message as a real RFC 5322 file with the
standard library's :mod:`mailbox` (written to ``tmp/``, then moved atomically
to ``new/``), so any mail client can open it. :class:`MaildirReplyFetcher`
reads the messages in ``new/`` and ``cur/`` without moving or flagging them: a
person's mail client keeps its own state there.

The fetcher's cursor (:mod:`aicmo_gateway.builtin.maildir_cursor`) is opaque
to callers. Inside it is a watermark (the newest delivery time returned, in
nanoseconds) and the keys already returned within ``grace_seconds`` below it,
so messages delivered in the same instant, or moved into ``new/`` slightly out
of order, are neither lost nor returned twice. A message whose file time is
older than the watermark by more than the grace window when it appears is not
returned.

File-system failures map to the error taxonomy: a refused permission (or a read-only file
system) is ``AuthError`` (only a change of the path or its permissions helps), a spent disk
quota is ``QuotaExhausted``, a full disk and any other failure ``Unavailable``.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from aicmo_gateway.errors import AuthError, ProviderError, QuotaExhausted, Unavailable

# mailbox, the MIME layer, loguru and the records load when a message is sent or read,
# so that listing the built-in provider types (``aicmo-gateway plugins``) stays cheap
if TYPE_CHECKING:
    import mailbox

    from aicmo_gateway.ports import EmailMessage, Reply, ReplyBatch, SendReceipt

__all__ = ["MaildirReplyFetcher", "MaildirSender"]

_SUBDIRS = ("tmp", "new", "cur")
#: the sender's record of Message-IDs it delivered (``<id>\t<key>`` lines); mail clients
#: ignore plain files at the top of a Maildir
INDEX_FILE = "aicmo-message-ids"
#: errors that only other permissions or another path fix
_REFUSED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def _disk_error(exc: OSError, what: str, fix: str) -> ProviderError:
    """The error for a failed file-system call: ``what`` failed, with ``fix`` as the fallback
    advice (see the module's docstring for the mapping)."""
    reason = exc.strerror or str(exc)
    if exc.errno in _REFUSED:
        return AuthError(
            f"{what}: {reason}; give the gateway's user access to it (chmod/chown) or set path "
            "to a folder it may use"
        )
    if exc.errno is not None and exc.errno == getattr(errno, "EDQUOT", None):
        return QuotaExhausted(f"{what}: {reason}; free space or raise the user's disk quota")
    if exc.errno == errno.ENOSPC:
        return Unavailable(f"{what}: {reason}; the disk is full, free space on it")
    return Unavailable(f"{what}: {reason}; {fix}")


def _open(path: Path, create: bool) -> mailbox.Maildir:
    """Open (and with ``create``, make) the Maildir at ``path``; raise ``Unavailable``."""
    try:
        if create:
            for sub in _SUBDIRS:
                os.makedirs(path / sub, mode=0o700, exist_ok=True)
        elif not path.is_dir():
            raise Unavailable(
                f"maildir {str(path)!r} does not exist; create it or set create = true"
            )
        missing = [sub for sub in _SUBDIRS if not (path / sub).is_dir()]
        if missing:
            raise Unavailable(
                f"maildir {str(path)!r} is not a Maildir: it has no {', '.join(missing)} "
                "folder; point path at a Maildir or set create = true"
            )
        import mailbox

        return mailbox.Maildir(path, factory=None, create=False)
    except OSError as exc:
        raise _disk_error(
            exc,
            f"maildir {str(path)!r} cannot be created or opened",
            "choose a path in a writable directory",
        ) from exc


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
    _seen: _IndexView = attrs.field(factory=lambda: _IndexView(), init=False, repr=False, eq=False)

    def check(self) -> None:
        """Raise a ``ProviderError`` unless the Maildir exists (or can be made) and is writable."""
        _open(self.path, self.create)
        probe = self.path / "tmp" / f".aicmo-check-{os.getpid()}"
        try:
            # created as mailbox creates a message's file, so the check meets the same refusals
            os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            os.remove(probe)
        except OSError as exc:
            raise _disk_error(
                exc, f"maildir {str(self.path)!r} is not writable", "check the folder"
            ) from exc

    def send(self, message: EmailMessage) -> SendReceipt:
        import mailbox

        from aicmo_gateway.logs import call_logger
        from aicmo_gateway.mime import render_message

        logger = call_logger()

        box = _open(self.path, self.create)
        # checked once; raises InvalidInput rather than write an injected file
        data, message_id = render_message(
            message,
            default_sender=self.default_sender or _default_sender(self.domain),
            domain=self.domain,
        )
        recipients = message.recipients  # may raise too: before anything is written
        with self._index() as index:
            if message.message_id:
                key, pending = self._seen.find(index, message_id)
                if key is None and pending:
                    # a sender stopped (killed) between its intent and its record: the file
                    # may be in the Maildir; look for it, once, before writing it again
                    key = self._scan_for(message_id)
                    if key is not None:
                        _record(index, message_id, key)
                if key is not None:
                    return self._receipt(recipients, message_id, self._locate(key))
                # the intent first: a crash before the record below leaves a trace
                _record(index, message_id, "")
            try:
                key = box.add(data)
            except OSError as exc:
                raise _disk_error(
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
            for name in _names(self.path / sub):
                if _message_id_of(self.path / sub / name) == message_id:
                    return name.split(":")[0]
        return None

    def _locate(self, key: str) -> Path | None:
        for sub in ("new", "cur"):
            for name in _names(self.path / sub):
                if name.split(":")[0] == key:
                    return self.path / sub / name
        return None

    @contextlib.contextmanager
    def _index(self) -> Iterator[IO[str]]:
        """The Message-ID index, open for appending under an exclusive lock."""
        try:
            handle = open(self.path / INDEX_FILE, "a+", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise _disk_error(
                exc, f"maildir {str(self.path)!r} is not writable", "check the folder"
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


class _IndexView:
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


def _record(index: IO[str], message_id: str, key: str) -> None:
    try:
        index.write(f"{message_id}\t{key}\n")
        index.flush()
    except OSError:  # de-duplication is a convenience: never fail a delivery for it
        pass


def _message_id_of(path: Path) -> str | None:
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


def _names(folder: Path) -> list[str]:
    try:
        return [name for name in os.listdir(folder) if not name.startswith(".")]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _disk_error(
            exc, f"maildir {str(folder)!r} cannot be read", "check the folder"
        ) from exc


# -- fetching ------------------------------------------------------------------


@attrs.frozen
class MaildirReplyFetcher:
    """Returns the messages delivered to a Maildir since the cursor, oldest first."""

    path: Path = attrs.field(converter=Path)
    #: at most this many replies per call; ``has_more`` says when more are waiting
    batch_size: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    #: create an empty Maildir when missing
    create: bool = False
    #: how late (in file time) a delivery may appear and still be returned
    grace_seconds: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))

    def check(self) -> None:
        """Raise a ``ProviderError`` unless the Maildir exists (or is created) and is readable."""
        _open(self.path, self.create)
        for sub in ("new", "cur"):
            _names(self.path / sub)  # listed as a fetch lists it, to meet the same refusals

    def fetch_replies(self, cursor: str | None) -> ReplyBatch:
        from aicmo_gateway.builtin.maildir_cursor import MaildirCursor
        from aicmo_gateway.ports import ReplyBatch

        state = MaildirCursor.decode(cursor)
        _open(self.path, self.create)
        grace_ns = int(self.grace_seconds * 1e9)
        floor = None if state.watermark is None else state.watermark - grace_ns
        pending = sorted(
            (when, key, path)
            for key, (when, path) in self._scan().items()
            if key not in state.seen and (floor is None or when > floor)
        )
        batch = pending[: self.batch_size]
        replies = [r for when, key, path in batch if (r := self._read(key, when, path)) is not None]
        if not batch:
            return ReplyBatch(replies=(), cursor=cursor, has_more=False)
        return ReplyBatch(
            replies=replies,  # type: ignore[arg-type]  # mypy reads converter=tuple badly
            cursor=state.advance([(when, key) for when, key, _ in batch], grace_ns).encode(),
            has_more=len(pending) > len(batch),
        )

    def _scan(self) -> dict[str, tuple[int, Path]]:
        """Every message key with its delivery time (ns) and file; ``new/`` first, then ``cur/``."""
        found: dict[str, tuple[int, Path]] = {}
        for sub in ("new", "cur"):  # a message moves new -> cur, so this order misses none
            for name in _names(self.path / sub):
                path = self.path / sub / name
                try:
                    when = path.stat().st_mtime_ns
                except FileNotFoundError:  # moved to cur/ meanwhile: found there
                    continue
                found.setdefault(name.split(":")[0], (when, path))
        return found

    def _read(self, key: str, when: int, path: Path) -> Reply | None:
        from loguru import logger

        from aicmo_gateway.mime import parse_reply

        received = datetime.fromtimestamp(when / 1e9, UTC)
        candidates = [path]
        for _ in range(3):  # the file may have moved from new/ to cur/ (flags in its name)
            for candidate in candidates:
                try:
                    raw = candidate.read_bytes()
                except FileNotFoundError:
                    continue
                except OSError as exc:  # returned with a warning: it must not block the rest
                    return _unreadable(key, received, candidate, exc)
                return parse_reply(raw, source_id=key, received_at=received)
            candidates = [
                self.path / sub / name
                for sub in ("new", "cur")
                for name in _names(self.path / sub)
                if name.split(":")[0] == key
            ]
        logger.bind(provider_type="maildir").debug("message {} vanished before reading", key)
        return None


def _default_sender(domain: str) -> str:
    """A From address valid as a mail address: a bare host name gets ``.localdomain``."""
    return f"aicmo-gateway@{domain}" if "." in domain else f"aicmo-gateway@{domain}.localdomain"


def _unreadable(key: str, received: datetime, path: Path, exc: OSError) -> Reply:
    from loguru import logger

    from aicmo_gateway.ports import Reply

    logger.bind(provider_type="maildir").warning("message {} cannot be read: {}", key, exc)
    return Reply(
        message_id=None,
        sender=None,
        subject="",
        text="",
        source_id=key,
        received_at=received,
        warnings=[
            f"the message file {str(path)!r} could not be read ({exc.strerror or exc}); "
            "it is returned empty so that the messages after it are not held back"
        ],
    )
