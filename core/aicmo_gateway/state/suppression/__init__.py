"""The suppression list: addresses and whole domains no message may be sent to, and why.

Storage only: the gateway (``aicmo_gateway.suppression``) decides what an entry blocks. One
store per DSN, each in its own module: ``sqlite:///path`` (the default, a file next to the
config) and ``postgresql://...`` (shared by every worker). Both are synchronous and cheap to
open; the PostgreSQL store is called from a worker thread.

Entries are keyed by the normalized address (``local@domain``) or by ``@domain`` for a whole
domain. An address may hold several entries, one per reason.

Soft bounces are counted in the same store, so the count survives restarts and every worker
adds to it: one row per (address, report) (the report's Message-ID, so a report fetched twice
counts once) with the report's date, and per address the date its run last started over (a
message from the address, or an operator lifting its suppression). The run is the number of
soft bounces dated after that; reaching the limit adds the entry in the same transaction.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import attrs

from aicmo_gateway.errors import InvalidInput

__all__ = [
    "Entry",
    "Reason",
    "SuppressionStore",
    "domain_key",
    "lookup_keys",
    "normalize",
    "open_store",
    "shown_dsn",
    "stamp",
]


class Reason(enum.StrEnum):
    """Why an address is suppressed."""

    UNSUBSCRIBED = "unsubscribed"  # the recipient asked (one-click, a link, a mailto)
    HARD_BOUNCE = "hard_bounce"  # the address does not exist or refuses mail for good
    COMPLAINT = "complaint"  # the recipient reported a message as spam
    MANUAL = "manual"  # an operator added it


def _reason(value: str | Reason) -> Reason:
    try:
        return Reason(value)
    except ValueError:
        raise InvalidInput(
            f"reason: {value!r} is not a suppression reason; use one of "
            + ", ".join(r.value for r in Reason),
            field="reason",
        ) from None


@attrs.frozen
class Entry:
    """One suppression: ``target`` is ``local@domain`` or ``@domain`` (the whole domain)."""

    target: str
    reason: Reason = attrs.field(converter=_reason)
    #: where it came from: ``one-click``, ``mailto``, ``cli``, ``bounce:<message-id>``, ...
    source: str
    created_at: datetime

    @property
    def is_domain(self) -> bool:
        return self.target.startswith("@")

    def describe(self) -> str:
        """``unsubscribed on 2026-11-30 (one-click)``: the words ``outcome.reason`` uses."""
        what = f"domain {self.target[1:]}" if self.is_domain else self.target
        source = f", source {self.source}" if self.source else ""
        return f"{what} {self.reason.value} on {self.created_at:%Y-%m-%d}{source}"

    def to_json(self) -> dict[str, str]:
        return {
            "target": self.target,
            "reason": self.reason.value,
            "source": self.source,
            "created_at": self.created_at.isoformat(),
        }


def _idna(domain: str, given: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    if not domain or any(c.isspace() for c in domain):
        raise InvalidInput(f"{given!r} has no valid domain", field="address")
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(
            f"{given!r}: the domain cannot be written in IDNA (ASCII) form; check its spelling",
            field="address",
        ) from None


_PLAIN = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\Z")


def normalize(target: str) -> str:
    """``Alice@Exämple.COM`` -> ``alice@xn--exmple-cua.com``; ``@Example.com`` -> ``@example.com``.

    The domain is lowercased and IDNA-encoded. The local part is lowercased too: mail systems
    treat it without regard to case in practice, and suppressing too much is the safe error.
    Dots and ``+tags`` are kept (``a.b+x@gmail.com`` is its own entry). A display name
    (``Alice <alice@example.com>``) is dropped. ``*@domain`` means ``@domain``.
    """
    if not isinstance(target, str):
        raise InvalidInput(
            f"address: expected a string, got {type(target).__name__}", field="address"
        )
    text = target.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1 : -1].strip()
    if text.startswith("*@"):
        text = text[1:]
    low = text.lower()
    if _PLAIN.match(low):  # the common case: ASCII, nothing to check further
        return low
    local, at, domain = text.rpartition("@")
    if not at:
        raise InvalidInput(
            f"{target!r} is neither an address nor a domain; write alice@example.com, "
            "or @example.com for the whole domain",
            field="address",
        )
    if any(c.isspace() or ord(c) < 32 for c in local) or "@" in local:
        raise InvalidInput(f"{target!r} is not a valid address", field="address")
    return f"{local.lower()}@{_idna(domain, target)}"


def domain_key(key: str) -> str:
    """The domain entry that covers a normalized address (or is the domain entry itself)."""
    return key[key.rindex("@") :]


def lookup_keys(addresses: Iterable[str]) -> list[str]:
    """Every key to look up for normalized addresses: each address and its domain."""
    keys: dict[str, None] = {}
    for key in addresses:
        keys[key] = None
        keys[key[key.rindex("@") :]] = None
    return list(keys)


class SuppressionStore(Protocol):
    """Where the entries live. Every method is synchronous; ``blocking`` stores run in a thread."""

    #: ``True`` when calls wait on the network (run them off the event loop)
    blocking: bool

    def add(self, entry: Entry) -> Entry:
        """Store ``entry``; an entry with the same target and reason is kept as it was."""
        ...

    def remove(self, target: str, reason: Reason | None = None) -> int:
        """Delete the target's entries (of one reason, or all); return how many went."""
        ...

    def lookup(self, keys: Sequence[str]) -> list[Entry]:
        """The entries of these normalized keys, in one query."""
        ...

    def entries(self, reason: Reason | None = None) -> list[Entry]:
        """Every entry (of one reason), oldest first."""
        ...

    def add_many(self, entries: Sequence[Entry]) -> int:
        """Store many entries in one transaction (an import); return how many were new."""
        ...

    def soft_bounce(
        self, target: str, report: str, at: datetime, limit: int, entry: Entry
    ) -> tuple[int, Entry | None]:
        """Count the soft bounce ``report`` (dated ``at``) of ``target``, once per report.

        Return the run (soft bounces since the last reset) and, when it reached ``limit``
        (``0``: never), ``entry`` as stored (added in the same transaction).
        """
        ...

    def reset_soft_bounces(self, resets: Sequence[tuple[str, datetime]]) -> None:
        """Start runs over, in one transaction: for each ``(target, at)``, the target's soft
        bounces dated ``at`` or earlier no longer count."""
        ...

    def soft_bounces(self, target: str) -> int:
        """The target's current run of soft bounces."""
        ...

    def close(self) -> None: ...


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(at: datetime) -> str:
    """``at`` in UTC as fixed-width ISO text, so that text order is time order (SQLite)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def shown_dsn(dsn: str) -> str:
    """The DSN with any password replaced by ``********``, for messages and reprs."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return dsn
    userinfo, _, host = rest.partition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}" if ":" in userinfo else dsn


def sqlite_path(dsn: str, base_dir: Path | None) -> Path:
    """``sqlite:///rel.db`` is relative to ``base_dir`` (the config's folder); ``////abs`` not."""
    raw = dsn.removeprefix("sqlite://")
    path = Path(raw[1:] if raw.startswith("/") else raw)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def open_store(dsn: str, base_dir: Path | None = None) -> SuppressionStore:
    """The store a DSN names: ``sqlite:///file.db`` or ``postgresql://user@host/db``."""
    if dsn.startswith("sqlite://"):
        from aicmo_gateway.state.suppression.sqlite import SqliteSuppression

        return SqliteSuppression(sqlite_path(dsn, base_dir))
    if dsn.startswith(("postgresql://", "postgres://")):
        from aicmo_gateway.state.suppression.postgres import PostgresSuppression

        return PostgresSuppression(dsn)
    raise InvalidInput(
        f"suppression: {shown_dsn(dsn)!r} is not a suppression store; write "
        '"sqlite:///suppression.db" (a file next to the config) or "postgresql://user@host/db"',
        field="suppression",
    )
