"""A Maildir on disk: opening (or making) it, listing a folder, and file-system errors.

A failed file-system call maps to the error taxonomy: a refused permission (or a read-only
file system) is ``AuthError`` (only a change of the path or its permissions helps), a spent
disk quota is ``QuotaExhausted``, a full disk and any other failure ``Unavailable``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING

from aicmo_gateway.errors import AuthError, ProviderError, QuotaExhausted, Unavailable

if TYPE_CHECKING:
    import mailbox

__all__ = ["SUBDIRS", "disk_error", "names", "open_maildir"]

SUBDIRS = ("tmp", "new", "cur")
#: errors that only other permissions or another path fix
REFUSED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def disk_error(exc: OSError, what: str, fix: str) -> ProviderError:
    """The error for a failed file-system call: ``what`` failed, with ``fix`` as the fallback
    advice (see this module's docstring for the mapping)."""
    reason = exc.strerror or str(exc)
    if exc.errno in REFUSED:
        return AuthError(
            f"{what}: {reason}; give the gateway's user access to it (chmod/chown) or set path "
            "to a folder it may use"
        )
    if exc.errno is not None and exc.errno == getattr(errno, "EDQUOT", None):
        return QuotaExhausted(f"{what}: {reason}; free space or raise the user's disk quota")
    if exc.errno == errno.ENOSPC:
        return Unavailable(f"{what}: {reason}; the disk is full, free space on it")
    return Unavailable(f"{what}: {reason}; {fix}")


def open_maildir(path: Path, create: bool) -> mailbox.Maildir:
    """Open (and with ``create``, make) the Maildir at ``path``; raise ``Unavailable``."""
    try:
        if create:
            for sub in SUBDIRS:
                os.makedirs(path / sub, mode=0o700, exist_ok=True)
        elif not path.is_dir():
            raise Unavailable(
                f"maildir {str(path)!r} does not exist; create it or set create = true"
            )
        missing = [sub for sub in SUBDIRS if not (path / sub).is_dir()]
        if missing:
            raise Unavailable(
                f"maildir {str(path)!r} is not a Maildir: it has no {', '.join(missing)} "
                "folder; point path at a Maildir or set create = true"
            )
        import mailbox

        return mailbox.Maildir(path, factory=None, create=False)
    except OSError as exc:
        raise disk_error(
            exc,
            f"maildir {str(path)!r} cannot be created or opened",
            "choose a path in a writable directory",
        ) from exc


def names(folder: Path) -> list[str]:
    """The file names in ``folder`` (none when it is missing), hidden ones left out."""
    try:
        return [name for name in os.listdir(folder) if not name.startswith(".")]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise disk_error(
            exc, f"maildir {str(folder)!r} cannot be read", "check the folder"
        ) from exc
