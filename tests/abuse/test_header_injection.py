"""Header injection, on the bytes a real SMTP server receives and on the Maildir files.

Every case of the corpus (``header_corpus.py``: fields x payloads x encodings, folding
tricks, overlong values, SMTP smuggling bodies) is sent through the SMTP plugin to aiosmtpd
(STARTTLS and AUTH) and through the Maildir sender. A case the records refuse is sent again
with the attack written past the validators, so the renderer is attacked on its own. Each
send is either refused with ``InvalidInput`` (nothing reaches the server or the folder) or
delivered with exactly the headers, recipients and parts that were meant.
"""

from __future__ import annotations

import email
import importlib.util
import re
import ssl
import sys
from collections.abc import AsyncIterator
from email import policy
from email.utils import parseaddr
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
import pytest_asyncio
import trustme
from aicmo_gateway_smtp.plugin import smtp_sender

from aicmo_gateway.builtin.maildir import MaildirSender
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import EmailMessage


def _load(name: str, path: Path) -> ModuleType:
    """A helper module by path (test folders are not packages; pytest imports by path too)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


HERE = Path(__file__).parent
corpus = _load("abuse_header_corpus", HERE / "header_corpus.py")
#: the SMTP plugin's own test server (aiosmtpd in a thread), reused rather than copied
smtpd = _load("abuse_smtp_server", HERE.parents[1] / "plugins" / "smtp" / "tests" / "conftest.py")

CASES = corpus.corpus()


def test_the_corpus_has_at_least_300_cases() -> None:
    assert len(CASES) >= 300
    assert len({case.id for case in CASES}) == len(CASES)


class Utf8Server(smtpd.LocalSmtpServer):  # type: ignore[name-defined,misc]
    """The plugin's test server, offering SMTPUTF8 so non-ASCII addresses are tried too."""

    def _factory(self) -> Any:
        protocol = super()._factory()
        protocol.enable_SMTPUTF8 = True
        return protocol


@attrs.frozen
class Targets:
    server: Any
    smtp: Any
    maildir: MaildirSender


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def targets(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Targets]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = Utf8Server(
        smtpd.Handler(), starttls=context, credentials=(smtpd.USERNAME, smtpd.PASSWORD)
    ).start()
    smtp = smtp_sender(
        host=server.host,
        port=server.port,
        security="starttls",
        ca_file=str(ca_file),
        username=smtpd.USERNAME,
        password=smtpd.PASSWORD,
        local_hostname="client.example.com",
        timeout=10.0,
    )
    try:
        yield Targets(server, smtp, MaildirSender(tmp_path_factory.mktemp("abuse") / "maildir"))
    finally:
        await smtp.aclose()
        server.stop()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_no_case_injects_a_header_a_recipient_or_a_body_boundary(
    case: Any, targets: Targets
) -> None:
    try:
        record, must_deliver = case.record(), True
    except InvalidInput:
        record, must_deliver = case.forced(), False
    await _through_smtp(record, targets, must_deliver)
    _through_maildir(record, targets.maildir, must_deliver)


async def _through_smtp(record: EmailMessage, targets: Targets, must_deliver: bool) -> None:
    received = targets.server.messages
    before = len(received)
    try:
        await targets.smtp.send(record)
    except InvalidInput:
        assert not must_deliver, "a valid message was refused"
        assert len(received) == before, "a refused message reached the server"
        return
    assert len(received) == before + 1, "one send must be exactly one message on the server"
    got = received[-1]
    assert got.rcpt_tos == list(record.recipients), "the envelope recipients changed"
    assert got.mail_from == parseaddr(record.sender or "")[1]
    _check_delivered(record, got.content, b"\r\n")


def _through_maildir(record: EmailMessage, maildir: MaildirSender, must_deliver: bool) -> None:
    new = maildir.path / "new"
    before = set(new.iterdir()) if new.exists() else set()
    try:
        receipt = maildir.send(record)
    except InvalidInput:
        assert not must_deliver, "a valid message was refused"
        assert set(new.iterdir()) == before, "a refused message was written"
        return
    assert len(set(new.iterdir()) - before) == 1
    _check_delivered(record, Path(receipt.location or "").read_bytes(), b"\n")


_BLANKS = re.compile(r"[ \t]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def _same(text: str) -> str:
    return _BLANKS.sub(" ", text).strip()


def _check_delivered(record: EmailMessage, data: bytes, linesep: bytes) -> None:
    assert b"\x00" not in data
    lines = data.split(linesep)
    assert all(b"\r" not in line and b"\n" not in line for line in lines), "a bare CR or LF"
    assert max(len(line) for line in lines) <= 998, "a line over 998 octets"
    # as a mailbox stores it (local line ends), now that every line end is known to be whole
    parsed = email.message_from_string(b"\n".join(lines).decode("utf-8"), policy=policy.default)
    names = [name.lower() for name in parsed]
    assert len(names) == len(set(names)), f"a header appears twice: {names}"
    assert set(names) - {"content-transfer-encoding"} == _expected_names(record)
    for name, value in parsed.items():
        assert not _CONTROL.search(str(value)), f"{name} decodes to a control character"
    assert _same(str(parsed["Subject"])) == _same(record.subject)
    for name, wanted in (("From", (record.sender,)), ("To", record.to), ("Cc", record.cc)):
        _check_addresses(parsed, name, tuple(a for a in wanted if a))
    _check_addresses(parsed, "Reply-To", record.reply_to)
    for name, value in record.headers:
        assert _same(str(parsed[name])) == _same(value), f"{name} did not read back as given"
    _check_parts(record, parsed)


def _expected_names(record: EmailMessage) -> set[str]:
    names = {"from", "subject", "date", "message-id", "mime-version", "content-type"}
    optional = {
        "to": record.to,
        "cc": record.cc,
        "reply-to": record.reply_to,
        "in-reply-to": record.in_reply_to,
        "references": record.references,
    }
    names |= {name for name, value in optional.items() if value}
    return names | {name.lower() for name, _ in record.headers}


def _check_addresses(parsed: Any, name: str, wanted: tuple[str, ...]) -> None:
    if not wanted:
        assert parsed[name] is None
        return
    got = [(a.display_name, a.addr_spec) for a in parsed[name].addresses]
    assert got == [parseaddr(item) for item in wanted], f"{name} reads back differently"


def _check_parts(record: EmailMessage, parsed: Any) -> None:
    leaves = [part for part in parsed.walk() if not part.is_multipart()]
    expected = [record.text, record.html]
    bodies = [body for body in expected if body is not None]
    assert len(leaves) == len(bodies) + len(record.attachments), "the part structure changed"
    for body, part in zip(bodies, leaves, strict=False):
        lines = body.encode("utf-8").splitlines()
        assert part.get_content() == b"\n".join(lines).decode("utf-8") + "\n"
    filenames = [part.get_filename() for part in leaves[len(bodies) :]]
    assert filenames == [attachment.filename for attachment in record.attachments]
