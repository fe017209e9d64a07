"""One gateway worker process for the fleet tests (run with ``python worker.py ARGS_JSON``).

It builds a gateway whose ``email_sending`` chain is ``primary`` then ``backup``, both of a
counting provider type that does NOT honour idempotency keys (it does not remember
Message-IDs): every send it performs appends one line ``provider key`` to a shared file, so
the test counts what the whole fleet performed. ``primary`` behaves as ``mode`` says: ``ok``,
``down`` (refuses every call) or ``429`` (asks to retry after 30 seconds). The worker waits
for a line on stdin before it starts (so every worker starts together), sends its keys one
after the other, and prints one JSON line per call: the serving provider, the status and
what happened on ``primary``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import attrs

from aicmo_gateway import Gateway, ProviderType, hookimpl
from aicmo_gateway.errors import RateLimited, Unavailable
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage, SendReceipt


@attrs.define
class CountingSender:
    path: str
    mode: str = "ok"
    name: str = ""
    latency: float = 0.0

    async def send(self, message: EmailMessage) -> SendReceipt:
        if self.mode == "down":
            raise Unavailable("connection refused")
        if self.mode == "429":
            raise RateLimited("429 Too Many Requests", retry_after=30.0)
        if self.latency:
            await asyncio.sleep(self.latency)
        line = f"{self.name} {dict(message.headers).get('X-Key', '')}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # one write with O_APPEND: lines of processes never mix
        finally:
            os.close(fd)
        return SendReceipt(message_id=message.message_id, accepted=tuple(message.to))


class _Plugin:
    @hookimpl
    def aicmo_email_senders(self) -> list[ProviderType]:
        return [ProviderType(name="counting", factory=CountingSender, summary="counts sends")]


def config(args: dict[str, Any]) -> dict[str, Any]:
    health = {"consecutive_failures": args.get("threshold", 5), "open_seconds": 600}
    return {
        "gateway": {"store": args["store"], "name": args["name"]},
        "capabilities": {"email_sending": {"providers": ["primary", "backup"]}},
        "providers": {
            "primary": {
                "type": "counting",
                "path": args["count_file"],
                "mode": args["mode"],
                "name": "primary",
                "latency": args.get("latency", 0.0),
                "health": health,
            },
            "backup": {
                "type": "counting",
                "path": args["count_file"],
                "name": "backup",
                "health": health,
            },
        },
    }


async def main(args: dict[str, Any]) -> None:
    registry = Registry.from_plugins({"counting": _Plugin()})
    gateway = Gateway.from_config(config(args), registry=registry, env={})
    sys.stdin.readline()  # the start signal
    try:
        for key in args["keys"]:
            message = EmailMessage(
                to="lead@example.com",
                sender="sales@example.com",
                subject="Hello",
                text="Hi",
                headers={"X-Key": key},
            )
            outcome = await gateway.email_sending.send(message, idempotency_key=key)
            primary = [a.action.value for a in outcome.attempts if a.provider == "primary"]
            line = {
                "key": key,
                "status": outcome.status.value,
                "provider": outcome.provider,
                "primary": primary,
                "replayed": outcome.replayed_from is not None,
            }
            print(json.dumps(line), flush=True)
        state = gateway.store_state()
        print(json.dumps({"store": state}), flush=True)
    finally:
        await gateway.aclose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
