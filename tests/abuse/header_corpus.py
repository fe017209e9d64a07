"""The header-injection corpus: fields x payloads x encodings, plus folding, length and body cases.

Each :class:`Case` names the ``EmailMessage`` keyword arguments (and an optional attachment)
an attacker would pass. ``forced`` builds the same message past the record validators, so
the renderer (the second line of defence) is attacked with every case too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from aicmo_gateway.ports import Attachment, EmailMessage

BASE: dict[str, Any] = {
    "to": "Ann <ann@example.com>",
    "subject": "Hello",
    "text": "Hi Ann",
    "sender": "Sales <sales@example.com>",
}

#: what each attack tries to smuggle into a header, decoded
INJECTIONS: dict[str, str] = {
    "cr": "\r",
    "lf": "\n",
    "crlf": "\r\n",
    "nul": "\x00",
    "vt": "\x0b",
    "ff": "\x0c",
    "esc": "\x1b",
    "del": "\x7f",
    "nel": "\x85",
    "csi": "\x9b",
    "ls": "\u2028",
    "ps": "\u2029",
    "bcc": "\r\nBcc: evil@attacker.example",
    "from": "\nFrom: ceo@attacker.example",
    "ctype": "\rContent-Type: text/html",
    "blank": "\r\n\r\n<b>injected body</b>",
}


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _q(text: str, charset: str) -> str:
    data = text.encode(charset)
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in data)


#: how the payload is written: (name, encoder); an encoder returns None when it cannot
ENCODINGS: dict[str, Callable[[str], str | None]] = {
    "raw": lambda p: f"hi{p}there",
    "q": lambda p: f"=?utf-8?q?hi{_q(p, 'utf-8')}there?=",
    "B": lambda p: f"=?UTF-8?B?{base64.b64encode(f'hi{p}there'.encode()).decode()}?=",
    "latin1": lambda p: f"=?iso-8859-1?Q?hi{_q(p, 'latin-1')}there?=" if _latin1(p) else None,
    "mixed": lambda p: f"Grüße =?windows-1252?q?{_q(p, 'latin-1')}?=" if _latin1(p) else None,
}


def _name(p: str) -> str:
    """A display name carrying ``p``: quoted when raw, bare when an encoded word."""
    return f'"Ann {p} Smith"' if not p.startswith(("=?", "Gr")) else f"Ann {p}"


#: where the payload goes: field -> message keyword arguments (attachment under "attachment")
FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "subject": lambda p: {"subject": p},
    "to-name": lambda p: {"to": (f"{_name(p)} <ann@example.com>",)},
    "cc-name": lambda p: {"cc": (f"{_name(p)} <cat@example.com>",)},
    "bcc-name": lambda p: {"bcc": (f"{_name(p)} <dan@example.com>",)},
    "reply-to-name": lambda p: {"reply_to": (f"{_name(p)} <replies@example.com>",)},
    "sender-name": lambda p: {"sender": f"{_name(p)} <sales@example.com>"},
    "to-address": lambda p: {"to": (f"{p.replace(' ', '')}@example.com",)},
    "cc-address": lambda p: {"cc": (f"Cat <{p.replace(' ', '')}@example.com>",)},
    "bcc-address": lambda p: {"bcc": (f"{p.replace(' ', '')}@example.com",)},
    "reply-to-address": lambda p: {"reply_to": (f"{p.replace(' ', '')}@example.com",)},
    "sender-address": lambda p: {"sender": f"Sales <{p.replace(' ', '')}@example.com>"},
    "domain": lambda p: {"to": (f"ann@{p.replace(' ', '')}.example.com",)},
    "header-value": lambda p: {"headers": (("X-Campaign", p),)},
    "header-name": lambda p: {"headers": ((f"X-{p}", "spring"),)},
    "in-reply-to": lambda p: {"in_reply_to": f"<{p}@example.com>"},
    "references": lambda p: {"references": ("<root@example.com>", f"<{p}@example.com>")},
    "message-id": lambda p: {"message_id": f"<{p}@example.com>"},
    "filename": lambda p: {"attachment": {"filename": f"{p}.pdf"}},
    "content-id": lambda p: {"html": "<img src=cid:x>", "attachment": {"content_id": f"{p}@x"}},
    "content-type": lambda p: {"attachment": {"content_type": f"application/{p}"}},
}


@attrs.frozen
class Case:
    id: str
    fields: dict[str, Any]

    def record(self) -> EmailMessage:
        """The message through the public constructors (raises ``InvalidInput`` when refused)."""
        fields = {**BASE, **self.fields}
        attachment = fields.pop("attachment", None)
        if attachment is not None:
            defaults: dict[str, Any] = {"filename": "a.pdf", "content": b"%PDF"}
            fields["attachments"] = [Attachment(**(defaults | attachment))]
        return EmailMessage(**fields)

    def forced(self) -> EmailMessage:
        """The same message with the attack written past the validators."""
        fields = dict(self.fields)
        attachment = fields.pop("attachment", None)
        record = EmailMessage(**BASE, html="<p>x</p>" if "html" in fields else None)
        if attachment is not None:
            cid = "x" if "content_id" in attachment else None
            part = Attachment("a.pdf", b"%PDF", content_id=cid)
            for name, value in attachment.items():
                object.__setattr__(part, name, value)
            object.__setattr__(record, "attachments", (part,))
        for name, value in fields.items():
            if name in ("to", "cc", "bcc", "reply_to") and isinstance(value, str):
                value = (value,)
            object.__setattr__(record, name, value)
        return record


def _matrix() -> Iterator[Case]:
    for field, place in FIELDS.items():
        for label, payload in INJECTIONS.items():
            for encoding, encode in ENCODINGS.items():
                written = encode(payload)
                if written is not None:
                    yield Case(f"{field}-{label}-{encoding}", place(written))


_EW_CR = "=?utf-8?q?hi=0D?="
_EW_LF_BCC = "=?utf-8?q?=0ABcc:_evil@attacker.example?="

#: folding tricks, encoded words split across words, and benign look-alikes
SPECIAL: dict[str, dict[str, Any]] = {
    "fold-crlf-space": {"subject": "hi\r\n Bcc: evil@attacker.example"},
    "fold-lf-tab": {"subject": "hi\n\tBcc: evil@attacker.example"},
    "fold-ew-split": {"subject": f"{_EW_CR} {_EW_LF_BCC}"},
    "fold-ew-split-tab": {"subject": f"{_EW_CR}\t{_EW_LF_BCC}"},
    "fold-ew-adjacent": {"subject": f"{_EW_CR}{_EW_LF_BCC}"},
    "fold-header-ew-split": {"headers": (("X-Campaign", f"{_EW_CR} {_EW_LF_BCC}"),)},
    "fold-name-ew-split": {"to": (f"Ann {_EW_CR} {_EW_LF_BCC} <ann@example.com>",)},
    "ew-in-quoted-name": {"cc": ('"=?utf-8?q?a=0D=0ABcc:_e@x.example?=" <cat@example.com>',)},
    "ew-comma-name": {"cc": ('"=?utf-8?q?a=2C_b@evil.example?=" <cat@example.com>',)},
    "ew-benign-subject": {"subject": "Price =?utf-8?q?=E2=82=AC5?= today"},
    "ew-benign-header": {"headers": (("X-Campaign", "=?utf-8?b?c3ByaW5n?="),)},
    "ew-benign-name": {"to": ("=?utf-8?q?J=C3=B6rg?= <ann@example.com>",)},
    "ew-benign-filename": {"attachment": {"filename": "=?utf-8?q?r=C3=A9sum=C3=A9?=.pdf"}},
    "ew-broken": {"subject": "=?broken =?x?y?z?= a=?b?=c"},
    "ew-unknown-charset": {"subject": "=?x-evil?q?a=0Db?="},
    "ew-utf16": {"subject": "=?utf-16?b?AA0ACg==?="},
    "tab-subject": {"subject": "a\tb"},
    "non-ascii-everywhere": {
        "subject": "Grüße aus Köln ☕",
        "to": ("Jörg Müller <ann@example.com>",),
        "headers": (("X-Campaign", "été ☀"),),
        "attachment": {"filename": "Ärger \u2013 ü.txt"},
    },
    "long-900-octet-word": {"subject": "A" * 900},
    "long-901-octet-word": {"subject": "A" * 901},
    "long-wide-word": {"subject": "Ä" * 451},
    "long-subject-1500": {"subject": "A" * 1500},
    "long-subject-spaces": {"subject": "word " * 2000},
    "long-name-1500": {"to": ("A" * 1500 + " <ann@example.com>",)},
    "long-quoted-name-1500": {"to": ('"' + "A," * 750 + '" <ann@example.com>',)},
    "long-name-900": {"to": ("A" * 900 + " <ann@example.com>",)},
    "long-name-spaces": {"to": ('"' + "Doe, Jane " * 150 + '" <ann@example.com>',)},
    "long-header-name": {"headers": (("X-" + "a" * 100, "v"),)},
    "long-header-value": {
        "headers": (("List-Unsubscribe", "<https://x.example/" + "a" * 850 + ">"),)
    },
    "long-header-value-1500": {"headers": (("X-Campaign", "a" * 1500),)},
    "long-filename": {"attachment": {"filename": "a" * 1500 + ".pdf"}},
    "long-filename-spaces": {"attachment": {"filename": "a b " * 300 + ".pdf"}},
    "long-content-id": {"html": "<p>x</p>", "attachment": {"content_id": "a" * 1500 + "@x"}},
    "long-in-reply-to": {"in_reply_to": "<" + "a" * 1500 + "@example.com>"},
    "many-references": {"references": tuple(f"<ref{i}@example.com>" for i in range(300))},
    "many-recipients": {"to": tuple(f"User {i} <u{i}@example.com>" for i in range(200))},
}

#: bodies that try to end the SMTP DATA early or smuggle a second message
BODIES: dict[str, str] = {
    "lf-dot-lf": "a\n.\nb",
    "crlf-dot-crlf": "a\r\n.\r\nb",
    "lf-dot-crlf": "a\n.\r\nb",
    "cr-dot-cr": "a\r.\rb",
    "smuggle-mail": (
        "a\r\n.\r\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.com>\r\n"
        "DATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n"
    ),
    "smuggle-lf": "a\n.\nMAIL FROM:<evil@attacker.example>\nRCPT TO:<victim@example.com>\n",
    "smuggle-quit": "a\r\n.\r\nQUIT\r\n",
    "bare-cr": "a\rb\rc",
    "bare-lf": "a\nb\nc",
    "leading-dots": ".\n..\n...",
    "fake-boundary": "a\r\n--===============0==\r\nContent-Type: text/html\r\n\r\n<b>x</b>",
    "fake-headers": "\r\nBcc: evil@attacker.example\r\n\r\nbody",
    "nul": "a\x00b",
    "separators": "a\u2028b\u2029c\x85d",
    "long-line": "x" * 5000,
}


def corpus() -> list[Case]:
    cases = list(_matrix())
    cases += [Case(f"special-{name}", fields) for name, fields in SPECIAL.items()]
    for name, body in BODIES.items():
        cases.append(Case(f"body-text-{name}", {"text": body}))
        cases.append(Case(f"body-html-{name}", {"text": None, "html": f"<p>{body}</p>"}))
    return cases
