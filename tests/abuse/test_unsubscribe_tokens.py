"""Unsubscribe tokens under attack: no edit of a token, and no token made without the secret,
unsubscribes anyone; the endpoint answers garbage paths and bodies without suppressing."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aicmo_gateway.state.suppression import open_store
from aicmo_gateway.suppression import Suppression
from aicmo_gateway.unsubscribe import Signer, TokenError, UnsubscribeApp

SECRET = "abuse-suite-secret-0123456789abcdef"
SIGNER = Signer(SECRET, ["an-old-secret-still-accepted-000"])
TOKEN = SIGNER.token("victim@example.com", "news")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(TOKEN) - 1), st.sampled_from(ALPHABET))
def test_no_single_character_edit_of_a_token_is_accepted(position, char):
    edited = TOKEN[:position] + char + TOKEN[position + 1 :]
    if edited == TOKEN:
        return
    with pytest.raises(TokenError):
        SIGNER.read(edited)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_never_a_valid_token(text):
    with pytest.raises(TokenError):
        SIGNER.read(text)


@settings(max_examples=100, deadline=None)
@given(st.emails(), st.text(min_size=16, max_size=40))
def test_a_token_made_with_another_secret_is_refused(address, other_secret):
    if other_secret in (SECRET, "an-old-secret-still-accepted-000"):
        return
    with pytest.raises(TokenError):
        SIGNER.read(Signer(other_secret).token(address))


def test_a_very_long_token_is_refused_before_any_work():
    with pytest.raises(TokenError):
        SIGNER.read("A" * 100_000 + "." + "B" * 43)


async def call(app: UnsubscribeApp, method: str, path: str, body: bytes = b"") -> int:
    sent: list[dict] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    await app(scope, receive, send)
    return sent[0]["status"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]),
    st.text(max_size=200),
    st.binary(max_size=2000),
)
def test_garbage_requests_suppress_nobody(tmp_path_factory, method, path, body):
    folder = tmp_path_factory.mktemp("garbage")
    suppression = Suppression(open_store(f"sqlite:///{folder}/s.db"))
    app = UnsubscribeApp(suppression, SIGNER)
    status = asyncio.run(call(app, method, "/unsubscribe/" + path, body))
    assert status in (400, 405)
    assert asyncio.run(suppression.list()) == []


def test_an_oversized_body_is_refused(tmp_path):
    suppression = Suppression(open_store(f"sqlite:///{tmp_path}/s.db"))
    app = UnsubscribeApp(suppression, SIGNER)
    assert asyncio.run(call(app, "POST", f"/u/{TOKEN}", b"x" * 100_000)) == 413
    assert asyncio.run(suppression.list()) == []
    assert asyncio.run(call(app, "POST", f"/u/{TOKEN}", b"List-Unsubscribe=One-Click")) == 200
    assert [e.target for e in asyncio.run(suppression.list())] == ["victim@example.com"]
