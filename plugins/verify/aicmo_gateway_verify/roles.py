"""Role accounts: local parts that name a function or a team rather than a person.

Mail to them reaches a shared inbox, a ticket queue or nobody in particular; it is
often filtered, and complaints from them weigh more. A role address is reported
``RISKY`` with ``role_account=True``.

The list holds the mailbox names of RFC 2142 (``postmaster``, ``abuse``, ``info``,
``sales``, ...), the ones mail systems reserve (``mailer-daemon``, ``noreply``) and
common team inboxes. A local part matches after lower-casing and dropping a
``+tag`` (``Sales+eu@`` is ``sales``); ``-``, ``_`` and ``.`` count as the same
separator (``no_reply``, ``no.reply`` and ``no-reply`` all match).
"""

from __future__ import annotations

__all__ = ["ROLE_ACCOUNTS", "role_of"]

ROLE_ACCOUNTS: frozenset[str] = frozenset(
    {
        # RFC 2142: business-related mailboxes
        "info",
        "marketing",
        "sales",
        "support",
        # RFC 2142: network operations mailboxes
        "abuse",
        "noc",
        "security",
        # RFC 2142: support for specific services
        "postmaster",
        "hostmaster",
        "usenet",
        "news",
        "webmaster",
        "www",
        "uucp",
        "ftp",
        # reserved by mail systems and list managers
        "mailer-daemon",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "bounce",
        "bounces",
        "list",
        "list-request",
        "majordomo",
        "listserv",
        "subscribe",
        "unsubscribe",
        "root",
        "daemon",
        "nobody",
        "devnull",
        "dns",
        # common team and function inboxes
        "admin",
        "administrator",
        "sysadmin",
        "it",
        "help",
        "helpdesk",
        "contact",
        "hello",
        "office",
        "team",
        "billing",
        "accounts",
        "accounting",
        "finance",
        "invoices",
        "orders",
        "service",
        "customerservice",
        "enquiries",
        "inquiries",
        "feedback",
        "press",
        "media",
        "pr",
        "jobs",
        "careers",
        "hr",
        "recruiting",
        "legal",
        "privacy",
        "compliance",
        "newsletter",
        "mail",
        "email",
        "all",
        "everyone",
        "staff",
    }
)

_SEPARATORS = str.maketrans({"_": "-", ".": "-"})


def role_of(local_part: str) -> str | None:
    """The role name a local part stands for, or None for a person's address."""
    name = local_part.lower().split("+", 1)[0].translate(_SEPARATORS)
    if name in ROLE_ACCOUNTS or name.replace("-", "") in ROLE_ACCOUNTS:
        return name
    return None
