"""Failures become the gateway's errors; TLS and STARTTLS work and verify certificates."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aicmo_gateway.errors import AuthError, Unavailable

PASSWORD = "correct horse battery staple"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield int(listener.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_wrong_password_is_an_auth_error_that_does_not_show_the_password(make_fetcher: Any):
    wrong = "wrong-" + PASSWORD
    fetcher = make_fetcher(password=wrong)
    for call in (lambda: fetcher.fetch_replies(None), fetcher.check):
        with pytest.raises(AuthError, match=r"refused the login of 'sales@example\.com'") as caught:
            call()
        assert wrong not in str(caught.value) and PASSWORD not in str(caught.value)
    assert wrong not in repr(fetcher)


def test_a_login_refused_as_unavailable_is_unavailable_not_an_auth_error(
    make_fetcher: Any, scripted_server: Any
):
    fetcher = make_fetcher(port=scripted_server.port)
    scripted_server.fail_next("login_unavailable")
    with pytest.raises(Unavailable, match=r"cannot log anyone in now") as caught:
        fetcher.fetch_replies(None)
    assert not isinstance(caught.value, AuthError)
    assert fetcher.fetch_replies(None).replies == ()  # the next login is served


def test_a_connection_lost_during_login_is_unavailable_not_an_auth_error(
    make_fetcher: Any, scripted_server: Any
):
    fetcher = make_fetcher(port=scripted_server.port)
    scripted_server.fail_next("drop_at_login")
    with pytest.raises(Unavailable, match=r"lost while logging in") as caught:
        fetcher.fetch_replies(None)
    assert not isinstance(caught.value, AuthError)
    assert PASSWORD not in str(caught.value)


def test_a_missing_mailbox_is_an_auth_error_naming_the_mailbox(make_fetcher: Any):
    fetcher = make_fetcher(mailbox="No-Such-Folder")
    with pytest.raises(AuthError, match="mailbox 'No-Such-Folder' cannot be opened"):
        fetcher.fetch_replies(None)
    with pytest.raises(AuthError, match="No-Such-Folder"):
        fetcher.check()


def test_a_refused_connection_is_unavailable(make_fetcher: Any, closed_port: int):
    with pytest.raises(Unavailable, match="connection was refused") as caught:
        make_fetcher(port=closed_port).fetch_replies(None)
    assert not isinstance(caught.value, AuthError)


def test_an_unresolvable_host_is_unavailable(make_fetcher: Any, monkeypatch: pytest.MonkeyPatch):
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fetcher = make_fetcher(host="imap.invalid")
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(Unavailable, match="cannot be resolved"):
        fetcher.check()


def test_a_server_that_does_not_answer_is_unavailable_after_the_timeout(
    make_fetcher: Any, silent_port: int
):
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"no answer within 0.5s"):
        make_fetcher(port=silent_port, timeout=0.5).fetch_replies(None)
    assert time.monotonic() - started < 5


def test_check_passes_on_a_working_account(make_fetcher: Any):
    make_fetcher().check()


def test_starttls_with_the_servers_ca_works(make_fetcher: Any, imap_server: Any, mailroom: Any):
    mailroom.deliver(b"From: a@example.com\r\nSubject: over TLS\r\n\r\nhi\r\n")
    fetcher = make_fetcher(security="starttls", ca_file=str(imap_server.ca_file))
    fetcher.check()
    (reply,) = fetcher.fetch_replies(None).replies
    assert reply.subject == "over TLS"


def test_starttls_with_an_unknown_certificate_is_unavailable(make_fetcher: Any):
    fetcher = make_fetcher(security="starttls")  # the system CAs do not know the test CA
    with pytest.raises(Unavailable, match="certificate could not be verified"):
        fetcher.check()


def test_starttls_without_verification_works(make_fetcher: Any):
    make_fetcher(security="starttls", verify_certificates=False).check()


def test_tls_from_the_first_byte_works(
    make_fetcher: Any, imap_server: Any, tls_forwarder: Any, mailroom: Any
):
    mailroom.deliver(b"From: a@example.com\r\nSubject: implicit TLS\r\n\r\nhi\r\n")
    fetcher = make_fetcher(
        security="tls", port=tls_forwarder.port, ca_file=str(imap_server.ca_file)
    )
    (reply,) = fetcher.fetch_replies(None).replies
    assert reply.subject == "implicit TLS"


def test_tls_with_an_unknown_certificate_is_unavailable(make_fetcher: Any, tls_forwarder: Any):
    with pytest.raises(Unavailable, match="certificate could not be verified"):
        make_fetcher(security="tls", port=tls_forwarder.port).check()


def test_tls_against_a_plain_port_is_unavailable(make_fetcher: Any, imap_server: Any):
    with pytest.raises(Unavailable, match="TLS"):
        make_fetcher(security="tls", port=imap_server.port, timeout=3).check()


def test_starttls_against_a_server_without_it_is_an_auth_error(
    make_fetcher: Any, no_starttls_forwarder: Any
):
    with pytest.raises(AuthError, match="does not offer STARTTLS"):
        make_fetcher(security="starttls", port=no_starttls_forwarder.port).check()
