"""A replayer for the crash test: replays an outbox into a counting sender until killed.

Run as ``python crash_replayer.py OUTBOX_DB EFFECTS_DB honours|ignores`` (see
:func:`serve`). The sender records every side effect durably in EFFECTS_DB (a SQLite
file) before answering: ``honours`` performs each Message-ID (derived from the
idempotency key) once, as a service honouring keys would; ``ignores`` performs every
call. A replayer prints ``ready PID`` once its gateway is built, then replays one row at
a time until killed (with ``final``: until no row is pending or in flight; the backoff
is short, so that is soon). The sender answers 0 to 4 ms
after its side effect, as a service's latency would, which widens the window a kill can
land in between the side effect and ``done``.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import sys
import types

import attrs

from aicmo_gateway import Gateway
from aicmo_gateway.plugins.hookspecs import hookimpl
from aicmo_gateway.plugins.provider_type import Idempotency, ProviderType
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.ports import EmailMessage, SendReceipt

EFFECTS = """
CREATE TABLE IF NOT EXISTS calls (key TEXT NOT NULL, subject TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS performed (key TEXT NOT NULL, subject TEXT NOT NULL);
"""


def effects(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(EFFECTS)
    return conn


@attrs.frozen
class CountingSettings:
    path: str
    honours: bool


class CountingSender:
    def __init__(self, *, path: str, honours: bool) -> None:
        self.conn = effects(path)
        self.honours = honours

    async def send(self, message: EmailMessage) -> SendReceipt:
        key = message.message_id or ""
        self.conn.execute("BEGIN IMMEDIATE")
        row = (key, message.subject)
        self.conn.execute("INSERT INTO calls (key, subject) VALUES (?, ?)", row)
        seen = self.conn.execute("SELECT 1 FROM performed WHERE key = ?", (key,)).fetchone()
        if not (self.honours and seen):
            self.conn.execute("INSERT INTO performed (key, subject) VALUES (?, ?)", row)
        self.conn.execute("COMMIT")
        await asyncio.sleep(random.uniform(0, 0.004))
        return SendReceipt(message_id=key)


def registry(honours: bool) -> Registry:
    kind = ProviderType(
        "counting",
        CountingSender,
        "records each send in a SQLite file",
        settings=CountingSettings,
        idempotency=Idempotency.MESSAGE_ID if honours else Idempotency.NONE,
    )

    @hookimpl
    def aicmo_email_senders() -> list[ProviderType]:
        return [kind]

    return Registry.from_plugins(
        {"counting": types.SimpleNamespace(aicmo_email_senders=aicmo_email_senders)}
    )


def config(outbox: str, path: str, honours: bool) -> dict[str, object]:
    return {
        "gateway": {
            "outbox": f"sqlite:///{outbox}",
            "outbox_lease": 1,
            "outbox_batch": 1,
            # interrupted rows come back within a second, and no row dies of interruptions
            # (the kills are fewer than this): max_attempts is tested in test_contract.py
            "outbox_backoff": 0.1,
            "outbox_backoff_max": 1,
            "outbox_max_attempts": 1000,
        },
        "capabilities": {"email_sending": {"providers": ["counter"]}},
        "providers": {"counter": {"type": "counting", "path": path, "honours": honours}},
    }


async def main(outbox: str, path: str, mode: str, final: bool) -> None:
    honours = mode == "honours"
    gateway = Gateway.from_config(config(outbox, path, honours), registry=registry(honours), env={})
    async with gateway:
        assert gateway.outbox is not None
        print(f"ready {os.getpid()}", flush=True)
        while True:
            if not (await gateway.outbox.replay(limit=1)).claimed:
                counts = await gateway.outbox.counts()
                if final and counts["pending"] == counts["in_flight"] == 0:
                    return
                await asyncio.sleep(0.005)


def serve(outbox: str, path: str, mode: str) -> None:
    """For each line on stdin (``go`` or ``final``), fork a replayer and report its exit.

    The modules are imported once, here: a fork costs milliseconds where a new
    interpreter costs half a second, so 50 trials take seconds. This process has no
    thread and no open database when it forks.
    """
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                asyncio.run(main(outbox, path, mode, final=line.strip() == "final"))
            except BaseException:
                code = 1
            finally:
                sys.stdout.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    serve(*sys.argv[1:4])
