"""One-click unsubscribe: headers on marketing mail, signed tokens, the endpoint over real HTTP."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from urllib.parse import unquote

import httpx
import pytest

from aicmo_gateway import ConfigError, Gateway
from aicmo_gateway.outcome import Status
from aicmo_gateway.ports import EmailMessage, Reply
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.unsubscribe import Signer, TokenError, UnsubscribeApp, suppress_from_reply

SECRET = "s3cret-value-for-the-tests-0123456789"
OLD = "an-older-secret-that-was-rotated-out"
ENV = {"UNSUB_SECRET": SECRET, "OLD_SECRET": OLD}


def make_gateway(tmp_path, fake: FakeProvider, **email: object) -> Gateway:
    config = fake_config("email_sending", fake.name)
    config["email"] = {
        "suppression": f"sqlite:///{tmp_path}/suppression.db",
        "unsubscribe_url": "https://example.com/unsubscribe/{token}",
        "unsubscribe_mailto": "unsubscribe@example.com",
        "unsubscribe_secret": "${UNSUB_SECRET}",
        "unsubscribe_old_secrets": ["${OLD_SECRET}"],
        **email,
    }
    return Gateway.from_config(config, registry=fake_registry(**{fake.name: fake}), env=ENV)


def message(*to: str, category: str = "marketing", **kw: object) -> EmailMessage:
    return EmailMessage(to=list(to), subject="News", text="Hi", category=category, **kw)


def sent_headers(fake: FakeProvider) -> dict[str, str]:
    (sent,) = [payload for op, payload in fake.received if op == "send"]
    return {name.lower(): value for name, value in sent.headers}


def token_in(headers: dict[str, str]) -> str:
    found = re.search(r"<https://example\.com/unsubscribe/([^>]+)>", headers["list-unsubscribe"])
    assert found is not None
    return found.group(1)


# -- headers ----------------------------------------------------------------------------


async def test_a_marketing_message_gets_one_click_unsubscribe_headers(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = make_gateway(tmp_path, fake)
    await gateway.email_sending.send(message("Alice@Example.com", headers={"List-Id": "<news.x>"}))
    headers = sent_headers(fake)
    assert headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
    https, mailto = headers["list-unsubscribe"].split(", ")
    assert https.startswith("<https://example.com/unsubscribe/")
    assert mailto.startswith("<mailto:unsubscribe@example.com?subject=unsubscribe%20")
    wish = Signer(SECRET).read(token_in(headers))
    assert (wish.recipient, wish.list_id) == ("alice@example.com", "news.x")
    assert unquote(mailto).endswith(f"unsubscribe {token_in(headers)}>")
    assert SECRET not in str(headers)


async def test_a_transactional_message_gets_no_unsubscribe_headers(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = make_gateway(tmp_path, fake)
    await gateway.email_sending.send(message("alice@example.com", category="transactional"))
    assert "list-unsubscribe" not in sent_headers(fake)
    assert "list-unsubscribe-post" not in sent_headers(fake)


async def test_a_marketing_message_to_several_recipients_gets_no_token_naming_one(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = make_gateway(tmp_path, fake)
    await gateway.email_sending.send(message("a@example.com", "b@example.com"))
    assert "list-unsubscribe" not in sent_headers(fake)


async def test_a_list_unsubscribe_header_the_application_set_is_kept(tmp_path):
    fake = FakeProvider(name="primary")
    gateway = make_gateway(tmp_path, fake)
    own = "<https://mine.example/u/1>"
    await gateway.email_sending.send(message("a@example.com", headers={"List-Unsubscribe": own}))
    assert sent_headers(fake)["list-unsubscribe"] == own


# -- tokens -----------------------------------------------------------------------------


def test_a_token_edited_to_name_someone_else_is_refused():
    token = Signer(SECRET).token("alice@example.com")
    other = Signer("another-key-nobody-else-knows-at-all").token("bob@example.com")
    tampered = other.split(".")[0] + "." + token.split(".")[1]
    for bad in (tampered, other, token[:-2] + "AA", token + "x", "nope", "é.é", ""):
        with pytest.raises(TokenError):
            Signer(SECRET).read(bad)


def test_a_token_signed_with_a_rotated_out_secret_still_works():
    old_token = Signer(OLD).token("alice@example.com", "news")
    assert Signer(SECRET, [OLD]).read(old_token).recipient == "alice@example.com"
    with pytest.raises(TokenError):
        Signer(SECRET).read(old_token)


def test_the_signer_never_shows_its_secrets():
    assert SECRET not in repr(Signer(SECRET, [OLD])) and OLD not in repr(Signer(SECRET, [OLD]))


# -- config -----------------------------------------------------------------------------


def test_secrets_are_never_shown_in_the_config(tmp_path):
    gateway = make_gateway(tmp_path, FakeProvider(name="primary"))
    shown = repr(gateway.config) + repr(gateway.config.email) + str(gateway.config.email)
    assert SECRET not in shown and OLD not in shown


@pytest.mark.parametrize(
    ("email", "complaint"),
    [
        ({"unsubscribe_url": "http://example.com/u/{token}"}, "https: URL"),
        ({"unsubscribe_url": "https://example.com/u/"}, "{token}"),
        ({"unsubscribe_secret": "short"}, "shorter than 16"),
        ({"unsubscribe_mailto": "not an address"}, "not an email address"),
        ({"suppression": "mysql://x"}, "not a suppression store"),
        ({"unsubscrib_url": "x"}, "did you mean 'unsubscribe_url'"),
    ],
)
def test_a_bad_email_table_is_refused_with_the_key_and_the_fix(tmp_path, email, complaint):
    with pytest.raises(ConfigError) as caught:
        make_gateway(tmp_path, FakeProvider(name="primary"), **email)
    assert complaint in str(caught.value)
    assert SECRET not in str(caught.value)


def test_an_unsubscribe_url_without_a_secret_is_refused():
    config = fake_config("email_sending", "p")
    config["email"] = {"unsubscribe_url": "https://example.com/u/{token}"}
    with pytest.raises(ConfigError, match="unsubscribe_secret"):
        Gateway.from_config(config, registry=fake_registry(p=FakeProvider(name="p")), env={})


# -- the endpoint over real HTTP ----------------------------------------------------------


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Gateway, FakeProvider]]:
    """The ASGI app behind uvicorn on 127.0.0.1 (an ephemeral port), mounted at /unsubscribe."""
    import uvicorn

    fake = FakeProvider(name="primary")
    gateway = make_gateway(tmp_path, fake)
    app = UnsubscribeApp.from_gateway(gateway)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.02)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}/unsubscribe", gateway, fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_one_click_post_suppresses_and_the_next_send_is_rejected(served):
    base, gateway, fake = served
    sync = gateway.sync()
    sync.email_sending.send(message("alice@example.com"))
    token = token_in(sent_headers(fake))
    answer = httpx.post(
        f"{base}/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and "a****@example.com" in answer.text
    entry = sync.suppression.check("alice@example.com")
    assert entry is not None and entry.reason == "unsubscribed" and entry.source == "one-click"
    outcome = sync.email_sending.send(message("alice@example.com"))
    assert outcome.status is Status.REJECTED and "unsubscribed" in (outcome.reason or "")
    assert fake.calls["send"] == 1
    sync.close()


def test_get_shows_a_confirmation_page_and_unsubscribes_nobody(served):
    base, gateway, _ = served
    token = Signer(SECRET).token("alice@example.com", "weekly")
    page = httpx.get(f"{base}/{token}")
    assert page.status_code == 200
    assert '<form method="post"' in page.text and "weekly" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "alice@example.com" not in page.text
    with gateway.sync() as sync:
        assert sync.suppression.list() == []


def test_a_forged_or_tampered_token_is_refused_and_suppresses_nobody(served):
    base, gateway, _ = served
    token = Signer(SECRET).token("alice@example.com")
    forged = Signer("the-attackers-own-secret-key-0000").token("bob@example.com")
    tampered = forged.split(".")[0] + "." + token.split(".")[1]
    for bad in (forged, tampered, "x" * 40):
        answer = httpx.post(f"{base}/{bad}", content=b"List-Unsubscribe=One-Click")
        assert answer.status_code == 400
        assert httpx.get(f"{base}/{bad}").status_code == 400
    assert httpx.put(f"{base}/{token}").status_code == 405
    with gateway.sync() as sync:
        assert sync.suppression.list() == []


# -- mailto ------------------------------------------------------------------------------


def reply(sender: str, to: str, subject: str) -> Reply:
    return Reply(message_id="<r@x>", sender=sender, subject=subject, text="", to=[to])


async def test_a_mail_to_the_unsubscribe_address_suppresses_its_sender(tmp_path):
    gateway = make_gateway(tmp_path, FakeProvider(name="primary"))
    entry = await suppress_from_reply(
        gateway, reply("Bob <Bob@Example.com>", "unsubscribe@example.com", "please stop")
    )
    assert entry is not None and entry.target == "bob@example.com" and entry.source == "mailto"


async def test_a_mailto_with_a_token_suppresses_the_token_recipient(tmp_path):
    gateway = make_gateway(tmp_path, FakeProvider(name="primary"))
    token = Signer(SECRET).token("alice@example.com", "news")
    entry = await suppress_from_reply(
        gateway, reply("forwarder@example.net", "unsubscribe@example.com", f"unsubscribe {token}")
    )
    assert entry is not None and entry.target == "alice@example.com"
    assert entry.source == "mailto list news"


async def test_an_ordinary_reply_suppresses_nobody(tmp_path):
    gateway = make_gateway(tmp_path, FakeProvider(name="primary"))
    assert (
        await suppress_from_reply(gateway, reply("bob@example.com", "me@example.com", "Re: hi"))
        is None
    )
    assert await gateway.suppression.list() == []


async def test_the_headers_reach_the_wire_as_urls_not_encoded_words(tmp_path):
    """Through the built-in Maildir provider, which renders the message as a relay would."""
    config = {
        "capabilities": {"email_sending": {"providers": ["box"]}},
        "providers": {"box": {"type": "maildir", "path": str(tmp_path / "Maildir")}},
        "email": {
            "suppression": "off",
            "unsubscribe_url": "https://example.com/unsubscribe/{token}",
            "unsubscribe_mailto": "unsubscribe@example.com",
            "unsubscribe_secret": "${UNSUB_SECRET}",
        },
    }
    async with Gateway.from_config(config, env=ENV) as gateway:
        outcome = await gateway.email_sending.send(message("ada@example.com"))
    assert outcome.ok, outcome.reason
    (raw,) = [path.read_bytes() for path in (tmp_path / "Maildir" / "new").iterdir()]
    assert b"List-Unsubscribe: <https://example.com/unsubscribe/" in raw
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert b"=?utf-8?" not in raw
