"""The suppression list's stores: normalization, entries, SQLite shared by processes, PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime

import pytest

from aicmo_gateway.errors import InvalidInput, NotConfigured
from aicmo_gateway.state.suppression import Entry, Reason, normalize, open_store, shown_dsn
from aicmo_gateway.suppression import Suppression

PG_DSN = os.environ.get("AICMO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("Alice <alice@example.com>", "alice@example.com"),
        ("  bob@example.com. ", "bob@example.com"),
        ("jörg@Bücher.example", "jörg@xn--bcher-kva.example"),
        ("a.b+news@gmail.com", "a.b+news@gmail.com"),
        ("@Example.com", "@example.com"),
        ("*@example.com", "@example.com"),
    ],
)
def test_addresses_and_domains_are_normalized(given, key):
    assert normalize(given) == key


@pytest.mark.parametrize("bad", ["example.com", "", "a b@example.com", "a@", "x@exa mple.com"])
def test_a_target_that_is_neither_address_nor_domain_is_refused_with_the_fix(bad):
    with pytest.raises(InvalidInput, match=r"address|domain"):
        normalize(bad)


def test_an_unknown_reason_is_refused_naming_the_reasons():
    with pytest.raises(InvalidInput, match="unsubscribed, hard_bounce, complaint, manual"):
        Entry("a@example.com", "bored", "", datetime.now(UTC))


def test_a_postgres_password_is_never_shown():
    assert shown_dsn("postgresql://app:hunter2@db/x") == "postgresql://app:********@db/x"
    assert "hunter2" not in repr(open_store("postgresql://app:hunter2@db/x"))


async def test_an_unconfigured_list_says_how_to_configure_it():
    with pytest.raises(NotConfigured, match=r"\[email\] suppression"):
        await Suppression(None).add("a@example.com")


async def test_a_lookup_before_anything_was_added_creates_no_file(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    assert await Suppression(store).check("a@example.com") is None
    assert not (tmp_path / "s.db").exists()


async def test_an_address_keeps_one_entry_per_reason_and_the_first_date(tmp_path):
    suppression = Suppression(open_store("sqlite:///s.db", tmp_path))
    first = await suppression.add("a@example.com", "unsubscribed", "one-click")
    again = await suppression.add("A@example.com", "unsubscribed", "mailto")
    await suppression.add("a@example.com", "hard_bounce", "bounce:<x@y>")
    assert again == first
    assert {e.reason for e in await suppression.list()} == {Reason.UNSUBSCRIBED, Reason.HARD_BOUNCE}
    assert [e.target for e in await suppression.list("hard_bounce")] == ["a@example.com"]
    assert (tmp_path / "s.db").exists()
    assert await suppression.remove("a@example.com", "hard_bounce") == 1
    assert (await suppression.check("a@example.com")).reason is Reason.UNSUBSCRIBED
    entry = await suppression.check("a@example.com", category="transactional")
    assert entry is None


def test_two_processes_share_one_sqlite_list(tmp_path):
    """Workers on one machine: what one adds, another's next send sees."""
    dsn = f"sqlite:///{tmp_path}/shared.db"
    here = Suppression(open_store(dsn))
    import asyncio

    assert asyncio.run(here.check("w@example.com")) is None
    script = textwrap.dedent(
        f"""
        import asyncio
        from aicmo_gateway.state.suppression import open_store
        from aicmo_gateway.suppression import Suppression
        s = Suppression(open_store({dsn!r}))
        asyncio.run(s.add("w@example.com", "complaint", "worker-2"))
        print(asyncio.run(s.check("here@example.com")).reason.value)
        """
    )
    asyncio.run(here.add("here@example.com", "manual", "worker-1"))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "manual"
    found = asyncio.run(here.check("w@example.com"))
    assert found is not None and found.source == "worker-2"


def _postgres() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return PG_DSN
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {shown_dsn(PG_DSN)} ({type(exc).__name__}); CI runs it")


async def test_postgresql_list_is_shared_between_processes_and_answers_in_one_query():
    dsn = _postgres()
    suppression = Suppression(open_store(dsn))
    mine = f"pg-{uuid.uuid4().hex[:12]}@example.com"
    try:
        script = textwrap.dedent(
            f"""
            import asyncio
            from aicmo_gateway.state.suppression import open_store
            from aicmo_gateway.suppression import Suppression
            asyncio.run(Suppression(open_store({dsn!r})).add({mine!r}, "hard_bounce", "w2"))
            """
        )
        subprocess.run([sys.executable, "-c", script], timeout=60, check=True)
        found = await suppression.check(mine, category="transactional")
        assert found is not None and found.reason is Reason.HARD_BOUNCE
        store = suppression.store
        queries: list[str] = []
        original = store._db.execute

        def counting(query, *args, **kwargs):
            queries.append(query)
            return original(query, *args, **kwargs)

        store._db.execute = counting
        await suppression.lookup([mine, "other@example.org"], "marketing")
        assert len(queries) == 1
        store._db.execute = original
        assert await suppression.add_many([Entry(mine, "complaint", "x", found.created_at)]) == 1
    finally:
        await suppression.remove(mine)
        suppression.close()


async def test_a_list_that_cannot_be_opened_fails_the_send_instead_of_skipping_the_check(
    tmp_path,
):
    from aicmo_gateway import Gateway
    from aicmo_gateway.ports import EmailMessage
    from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
    from aicmo_gateway.testing.fakes import FakeProvider

    (tmp_path / "s.db").mkdir()  # a folder where the file should be: it cannot be opened
    fake = FakeProvider(name="p")
    config = fake_config("email_sending", "p")
    config["email"] = {"suppression": f"sqlite:///{tmp_path}/s.db"}
    gateway = Gateway.from_config(config, registry=fake_registry(p=fake), env={})
    with pytest.raises(OSError, match="cannot open the suppression list"):
        await gateway.email_sending.send(EmailMessage(to="a@example.com", subject="s", text="t"))
    assert fake.total_calls == 0


async def test_an_unreachable_postgresql_list_fails_without_showing_the_password():
    pytest.importorskip("psycopg")
    suppression = Suppression(open_store("postgresql://app:hunter2secret@127.0.0.1:9/x"))
    with pytest.raises(ConnectionError) as caught:
        await suppression.check("a@example.com")
    assert "hunter2secret" not in str(caught.value)
    assert "postgresql://app:********@127.0.0.1:9/x" in str(caught.value)
