"""Fetched bounces and complaints fill the suppression list; soft bounces after a run of them.

Replies come from a real Maildir through the built-in ``maildir`` reply fetcher and the gateway,
holding messages from the corpus in tests/fixtures/bounces; the list is a SQLite file (shared
by a second process) or the real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import mailbox
import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aicmo_gateway import Gateway, Status
from aicmo_gateway.errors import ConfigError
from aicmo_gateway.state.suppression import Reason, shown_dsn

CORPUS = Path(__file__).parent / "fixtures" / "bounces"
PG_DSN = os.environ.get("AICMO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
#: the soft bounce the tests repeat: "mailbox full" (5.2.2) for dana@example.org
SOFT = "postfix-mailbox-full"
DANA = "dana@example.org"

HARD = {
    "postfix-user-unknown": "bob@example.org",
    "exim-permanent-failure": "gina@unknown.example.com",
    "gmail-address-not-found": "nina.nobody@gmail.example",
    "qmail-no-mailbox": "ray@qmail.example.net",
    "amazonses-bounce": "xena@closed.example.com",
}
COMPLAINTS = {
    "rfc5965-abuse-report": "user@example.com",
    "yahoo-arf-complaint": "zoe@yahoo.example",
    "microsoft-jmrp-complaint": "amir@outlook.example",
}
HUMAN_AND_AUTO = sorted(p.stem for p in CORPUS.glob("human-*.eml")) + sorted(
    p.stem for p in CORPUS.glob("auto-*.eml")
)


def corpus(name: str, message_id: str | None = None) -> bytes:
    """A corpus message, with another Message-ID when given (another report of the same kind)."""
    raw = (CORPUS / f"{name}.eml").read_bytes()
    if message_id is None:
        return raw
    head, sep, body = raw.partition(b"\n\n")
    lines = [
        f"Message-ID: {message_id}".encode() if line.lower().startswith(b"message-id:") else line
        for line in head.split(b"\n")
    ]
    return b"\n".join(lines) + sep + body


def deliver(maildir: Path, raw: bytes, at: datetime) -> None:
    box = mailbox.Maildir(maildir, create=True)
    message = mailbox.MaildirMessage(raw)
    message.set_date(at.timestamp())
    box.add(message)
    box.close()


def config(maildir: Path, suppression: str, **email: Any) -> dict[str, Any]:
    return {
        "capabilities": {"reply_fetching": {"providers": ["bounces"]}},
        "providers": {"bounces": {"type": "maildir", "path": str(maildir), "create": True}},
        "email": {"suppression": suppression, **email},
    }


async def fetch(maildir: Path, suppression: str, **email: Any) -> dict[str, str]:
    """Fetch everything in the Maildir through a fresh gateway; ``outcome.suppressed``."""
    gateway = Gateway.from_config(config(maildir, suppression, **email), env={})
    try:
        outcome = await gateway.reply_fetching.fetch_replies(None)
        assert outcome.status is Status.OK, outcome
        return dict(outcome.suppressed)
    finally:
        await gateway.aclose()


async def entries(suppression: str) -> dict[str, tuple[Reason, str]]:
    gateway = Gateway.from_config({"email": {"suppression": suppression}}, env={})
    try:
        return {e.target: (e.reason, e.source) for e in await gateway.suppression.list()}
    finally:
        await gateway.aclose()


async def run_of(suppression: str, address: str) -> int:
    gateway = Gateway.from_config({"email": {"suppression": suppression}}, env={})
    try:
        return await gateway.suppression.soft_bounces(address)
    finally:
        await gateway.aclose()


async def test_hard_bounces_and_complaints_are_suppressed_and_nothing_else(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    names = [*HARD, *COMPLAINTS, *HUMAN_AND_AUTO, SOFT, "gmail-delayed"]
    for n, name in enumerate(names):
        deliver(tmp_path / "Maildir", corpus(name), T0 + timedelta(minutes=n))
    suppressed = await fetch(tmp_path / "Maildir", dsn)
    found = await entries(dsn)
    expected = dict.fromkeys(HARD.values(), Reason.HARD_BOUNCE)
    expected.update(dict.fromkeys(COMPLAINTS.values(), Reason.COMPLAINT))
    assert {target: reason for target, (reason, _) in found.items()} == expected
    assert set(suppressed) == set(expected)
    # the source names the report and the provider that fetched it, with the status code
    assert found["bob@example.org"][1].startswith(
        "bounce:<20261116091302.A1B2C3@mx.example.org> via bounces (5.1.1 "
    )
    assert found["zoe@yahoo.example"][1].startswith(
        "complaint:<arf.yahoo-arf-complaint.20261116124421@isp.example> via bounces (abuse"
    )
    # a soft bounce is one in a run; a delay warning is not counted
    assert await run_of(dsn, DANA) == 1
    assert await run_of(dsn, "pat@slowhost.example") == 0


async def test_a_human_reply_or_an_auto_reply_never_suppresses_anyone(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    for n, name in enumerate(HUMAN_AND_AUTO):
        deliver(tmp_path / "Maildir", corpus(name), T0 + timedelta(minutes=n))
    assert await fetch(tmp_path / "Maildir", dsn) == {}
    assert await entries(dsn) == {}


async def test_fetching_the_same_reports_again_counts_nothing_twice(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    deliver(tmp_path / "Maildir", corpus(SOFT, "<soft-1@mx.example>"), T0)
    deliver(tmp_path / "Maildir", corpus(SOFT, "<soft-2@mx.example>"), T0 + timedelta(hours=1))
    deliver(tmp_path / "Maildir", corpus("postfix-user-unknown"), T0 + timedelta(hours=2))
    for _ in range(3):  # limit 3: a report counted again would suppress dana
        await fetch(tmp_path / "Maildir", dsn)
    assert await run_of(dsn, DANA) == 2
    found = await entries(dsn)
    assert set(found) == {"bob@example.org"}


async def test_soft_bounces_suppress_after_the_limit_in_a_row_across_a_restart(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    box = tmp_path / "Maildir"
    deliver(box, corpus(SOFT, "<soft-1@mx.example>"), T0)
    deliver(box, corpus(SOFT, "<soft-2@mx.example>"), T0 + timedelta(days=1))
    assert await fetch(box, dsn) == {}  # one gateway, then closed: a restart
    assert await run_of(dsn, DANA) == 2
    deliver(box, corpus(SOFT, "<soft-3@mx.example>"), T0 + timedelta(days=2))
    suppressed = await fetch(box, dsn)
    assert list(suppressed) == [DANA]
    reason, source = (await entries(dsn))[DANA]
    assert reason is Reason.HARD_BOUNCE
    assert source.startswith("3 soft bounces in a row, last bounce:<soft-3@mx.example> via bounces")


async def test_a_message_from_the_address_starts_the_run_over(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    box = tmp_path / "Maildir"
    dana_writes = corpus("human-plain-reply").replace(b"frida@customer.example", DANA.encode())
    deliver(box, corpus(SOFT, "<soft-1@mx.example>"), T0)
    deliver(box, corpus(SOFT, "<soft-2@mx.example>"), T0 + timedelta(hours=1))
    deliver(box, dana_writes, T0 + timedelta(hours=2))
    deliver(box, corpus(SOFT, "<soft-3@mx.example>"), T0 + timedelta(hours=3))
    assert await fetch(box, dsn) == {}
    assert await fetch(box, dsn) == {}  # again: the reset holds, by the reports' dates
    assert await run_of(dsn, DANA) == 1


async def test_lifting_a_suppression_starts_the_run_over(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    box = tmp_path / "Maildir"
    for n in range(2):
        deliver(box, corpus(SOFT, f"<soft-{n}@mx.example>"), T0 + timedelta(hours=n))
    assert list(await fetch(box, dsn, soft_bounce_limit=2)) == [DANA]
    gateway = Gateway.from_config({"email": {"suppression": dsn}}, env={})
    try:
        assert await gateway.suppression.remove(DANA) == 1
    finally:
        await gateway.aclose()
    assert await fetch(box, dsn, soft_bounce_limit=2) == {}  # the old reports count no more
    assert await run_of(dsn, DANA) == 0


async def test_a_limit_of_zero_never_suppresses_a_soft_bounce_and_the_switch_turns_it_off(
    tmp_path,
):
    dsn = f"sqlite:///{tmp_path}/list.db"
    box = tmp_path / "Maildir"
    for n in range(4):
        deliver(box, corpus(SOFT, f"<soft-{n}@mx.example>"), T0 + timedelta(hours=n))
    assert await fetch(box, dsn, soft_bounce_limit=0) == {}
    deliver(box, corpus("postfix-user-unknown"), T0 + timedelta(hours=5))
    assert await fetch(box, dsn, suppress_from_replies=False) == {}
    assert await entries(dsn) == {}


async def test_a_mail_to_the_unsubscribe_address_unsubscribes_its_sender_when_fetched(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    raw = (
        b"From: Frida Holm <frida@customer.example>\nTo: unsubscribe@news.example.com\n"
        b"Subject: unsubscribe\nMessage-ID: <u1@customer.example>\n"
        b"Date: Mon, 16 Nov 2026 10:00:00 +0000\n\nplease remove me\n"
    )
    deliver(tmp_path / "Maildir", raw, T0)
    suppressed = await fetch(
        tmp_path / "Maildir",
        dsn,
        unsubscribe_mailto="unsubscribe@news.example.com",
        unsubscribe_secret="a-secret-of-sixteen-or-more",
    )
    assert list(suppressed) == ["frida@customer.example"]
    assert (await entries(dsn))["frida@customer.example"] == (Reason.UNSUBSCRIBED, "mailto")


async def test_a_bounce_sent_to_the_unsubscribe_address_unsubscribes_no_mail_system(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    raw = corpus("postfix-user-unknown").replace(
        b"To: ada@news.example.com", b"To: unsubscribe@news.example.com"
    )
    deliver(tmp_path / "Maildir", raw, T0)
    suppressed = await fetch(
        tmp_path / "Maildir",
        dsn,
        unsubscribe_mailto="unsubscribe@news.example.com",
        unsubscribe_secret="a-secret-of-sixteen-or-more",
    )
    assert list(suppressed) == ["bob@example.org"]
    assert set(await entries(dsn)) == {"bob@example.org"}


def test_two_processes_count_one_run_in_a_shared_sqlite_list(tmp_path):
    """Two workers, each fetching its own mailbox, add to one address's run."""
    dsn = f"sqlite:///{tmp_path}/shared.db"
    deliver(tmp_path / "A", corpus(SOFT, "<soft-a@mx.example>"), T0)
    deliver(tmp_path / "B", corpus(SOFT, "<soft-b@mx.example>"), T0 + timedelta(hours=1))
    asyncio.run(fetch(tmp_path / "A", dsn))
    _fetch_in_another_process(tmp_path / "B", dsn)
    assert asyncio.run(run_of(dsn, DANA)) == 2
    deliver(tmp_path / "A", corpus(SOFT, "<soft-c@mx.example>"), T0 + timedelta(hours=2))
    assert list(asyncio.run(fetch(tmp_path / "A", dsn))) == [DANA]


def test_two_processes_counting_at_once_reach_the_limit_together(tmp_path):
    """Ten reports each, fetched at the same time: the twentieth count suppresses, whichever
    process makes it (a count and its entry are one transaction)."""
    dsn = f"sqlite:///{tmp_path}/shared.db"
    for box in ("A", "B"):
        for n in range(10):
            at = T0 + timedelta(minutes=n)
            deliver(tmp_path / box, corpus(SOFT, f"<soft-{box}{n}@mx.example>"), at)
    workers = [
        subprocess.Popen([sys.executable, "-c", _fetch_script(tmp_path / box, dsn, limit=20)])
        for box in ("A", "B")
    ]
    for worker in workers:
        assert worker.wait(timeout=60) == 0
    assert asyncio.run(run_of(dsn, DANA)) == 20
    reason, source = asyncio.run(entries(dsn))[DANA]
    assert reason is Reason.HARD_BOUNCE and source.startswith("20 soft bounces in a row")


def _fetch_in_another_process(maildir: Path, dsn: str) -> None:
    subprocess.run([sys.executable, "-c", _fetch_script(maildir, dsn)], timeout=60, check=True)


def _fetch_script(maildir: Path, dsn: str, limit: int = 3) -> str:
    return textwrap.dedent(
        f"""
        import asyncio
        from aicmo_gateway import Gateway

        async def main():
            gateway = Gateway.from_config(
                {{
                    "capabilities": {{"reply_fetching": {{"providers": ["bounces"]}}}},
                    "providers": {{"bounces": {{"type": "maildir", "path": {str(maildir)!r}}}}},
                    "email": {{"suppression": {dsn!r}, "soft_bounce_limit": {limit}}},
                }},
                env={{}},
            )
            try:
                assert (await gateway.reply_fetching.fetch_replies(None)).ok
            finally:
                await gateway.aclose()

        asyncio.run(main())
        """
    )


def _postgres() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return PG_DSN
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {shown_dsn(PG_DSN)} ({type(exc).__name__}); CI runs it")


def test_postgresql_counts_one_run_across_processes_and_suppresses_hard_bounces(tmp_path):
    dsn = _postgres()
    mine = f"pg-{uuid.uuid4().hex[:10]}@example.org"
    gone = f"gone-{uuid.uuid4().hex[:10]}@example.org"

    def soft(n: int) -> bytes:
        return corpus(SOFT, f"<soft-{n}-{mine}>").replace(DANA.encode(), mine.encode())

    deliver(tmp_path / "A", soft(1), T0)
    deliver(
        tmp_path / "A",
        corpus("postfix-user-unknown").replace(b"bob@example.org", gone.encode()),
        T0 + timedelta(minutes=1),
    )
    deliver(tmp_path / "B", soft(2), T0 + timedelta(hours=1))
    try:
        assert list(asyncio.run(fetch(tmp_path / "A", dsn))) == [gone]
        _fetch_in_another_process(tmp_path / "B", dsn)
        asyncio.run(fetch(tmp_path / "B", dsn))  # fetched twice: counted once
        assert asyncio.run(run_of(dsn, mine)) == 2
        deliver(tmp_path / "A", soft(3), T0 + timedelta(hours=2))
        assert set(asyncio.run(fetch(tmp_path / "A", dsn))) == {mine, gone}  # gone: again
        found = asyncio.run(entries(dsn))
        assert found[mine][0] is Reason.HARD_BOUNCE
        assert found[gone][0] is Reason.HARD_BOUNCE
    finally:

        async def clean() -> None:
            gateway = Gateway.from_config({"email": {"suppression": dsn}}, env={})
            try:
                await gateway.suppression.remove(mine)
                await gateway.suppression.remove(gone)
            finally:
                await gateway.aclose()

        asyncio.run(clean())


@pytest.mark.parametrize("value", [-1, 101, 2.5, "3", True])
def test_a_soft_bounce_limit_out_of_range_is_refused_with_the_range(value):
    with pytest.raises(ConfigError, match=r"soft_bounce_limit.*0 to 100"):
        Gateway.from_config({"email": {"suppression": "off", "soft_bounce_limit": value}}, env={})


def test_suppress_from_replies_must_be_true_or_false():
    with pytest.raises(ConfigError, match="suppress_from_replies"):
        Gateway.from_config({"email": {"suppress_from_replies": "yes"}}, env={})


def test_the_synchronous_facade_feeds_the_list_too(tmp_path):
    dsn = f"sqlite:///{tmp_path}/list.db"
    deliver(tmp_path / "Maildir", corpus("postfix-user-unknown"), T0)
    with Gateway.from_config(config(tmp_path / "Maildir", dsn), env={}).sync() as gateway:
        outcome = gateway.reply_fetching.fetch_replies(None)
        assert list(outcome.suppressed) == ["bob@example.org"]
        assert gateway.suppression.check("bob@example.org").reason is Reason.HARD_BOUNCE
