"""Bounces and complaints fetched over IMAP (a real pymap server) fill the suppression list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aicmo_gateway import Gateway, Status
from aicmo_gateway.state.suppression import Reason

#: the core's corpus of bounces, complaints and replies (tests/fixtures/bounces)
CORPUS = Path(__file__).parents[3] / "tests" / "fixtures" / "bounces"


async def test_bounces_and_complaints_fetched_over_imap_are_suppressed(
    imap_server: Any, mailroom: Any, tmp_path: Path
):
    for name in ("exim-permanent-failure", "yahoo-arf-complaint", "human-plain-reply"):
        mailroom.deliver((CORPUS / f"{name}.eml").read_bytes())
    config = {
        "capabilities": {"reply_fetching": {"providers": ["inbox"]}},
        "providers": {
            "inbox": {
                "type": "imap",
                "host": "127.0.0.1",
                "port": imap_server.port,
                "security": "none",
                "username": "sales@example.com",
                "password": "${IMAP_PASSWORD}",
                "mailbox": mailroom.mailbox,
            }
        },
        "email": {"suppression": f"sqlite:///{tmp_path}/list.db"},
    }
    gateway = Gateway.from_config(config, env={"IMAP_PASSWORD": "correct horse battery staple"})
    try:
        outcome = await gateway.reply_fetching.fetch_replies(None)
        assert outcome.status is Status.OK, outcome
        assert len(outcome.value.replies) == 3
        assert set(outcome.suppressed) == {"gina@unknown.example.com", "zoe@yahoo.example"}
        found = {e.target: e for e in await gateway.suppression.list()}
        assert found["gina@unknown.example.com"].reason is Reason.HARD_BOUNCE
        assert found["gina@unknown.example.com"].source.startswith(
            "bounce:<E1vKq7a-00042X-2b@mx.exim.example> via inbox"
        )
        assert found["zoe@yahoo.example"].reason is Reason.COMPLAINT
        assert "frida@customer.example" not in found
    finally:
        await gateway.aclose()
