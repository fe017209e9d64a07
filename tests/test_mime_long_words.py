"""A custom header with a word too long for one line (a URL) goes out as written, not encoded."""

from __future__ import annotations

from email import message_from_bytes, policy

from aicmo_gateway.mime import build_message, render
from aicmo_gateway.ports import EmailMessage

URL = "<https://example.com/unsubscribe/" + "eyJyIjoiYWRhQGV4YW1wbGUuY29tIn0" * 4 + ".sig>"
MAILTO = "<mailto:unsubscribe@example.com?subject=unsubscribe%20" + "x" * 90 + ">"


def sent(**headers: str) -> bytes:
    message = EmailMessage(
        to="ada@example.com", sender="me@example.com", subject="Hi", text="x", headers=headers
    )
    return render(build_message(message))


def test_a_list_unsubscribe_header_with_long_urls_is_written_as_is():
    data = sent(**{"List-Unsubscribe": f"{URL}, {MAILTO}"})
    assert b"=?utf-8?" not in data
    assert f"List-Unsubscribe: {URL},".encode() in data
    parsed = message_from_bytes(data, policy=policy.default)
    assert " ".join(str(parsed["List-Unsubscribe"]).split()) == f"{URL}, {MAILTO}"


def test_no_line_of_the_folded_header_exceeds_the_protocol_limit():
    data = sent(**{"X-Long": " ".join([URL] * 6)})
    assert all(len(line) <= 998 for line in data.splitlines())
    assert data.count(b"\n X-Long") == 0 and data.count(URL.encode()) == 6
    assert b"=?utf-8?" not in data
