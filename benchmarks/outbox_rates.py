"""Outbox enqueue and replay rates on SQLite and PostgreSQL, in the same run.

- **enqueue**: writes whose only provider is down, sent through the gateway: each call
  fails, is stored and returns ``DEFERRED`` (the whole path a deferring call takes), one
  caller at a time and 8 callers at once;
- **replay**: the stored rows replayed through the same chain to a provider that is up
  again, by 1 replayer and by 4 replayers at once (each with its own gateway and
  connection, in its own thread), until no row is left.

The provider is an in-process fake (no network). Messages carry 2 KB of text and a 10 KB
attachment. PostgreSQL is ``$AICMO_BENCH_POSTGRES`` (default the local test database);
each run uses a fresh schema, dropped afterwards.

    python benchmarks/outbox_rates.py --rows 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from machine import describe  # benchmarks/machine.py (run as a file)

from aicmo_gateway import Gateway, Status
from aicmo_gateway.ports import Attachment, EmailMessage
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.profiles import fast_failure, healthy

POSTGRES = os.environ.get("AICMO_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def message(i: int) -> EmailMessage:
    return EmailMessage(
        to=[f"lead{i}@example.com"],
        subject=f"Hello {i}",
        text="x" * 2000,
        sender="me@example.com",
        attachments=[Attachment("a.pdf", os.urandom(10_000), "application/pdf")],
    )


def gateway(url: str, fake: FakeProvider) -> Gateway:
    config: dict[str, Any] = fake_config("email_sending", "primary")
    config["gateway"] = {"outbox": url, "outbox_batch": 50}
    return Gateway.from_config(config, registry=fake_registry(primary=fake), env={})


async def enqueue(url: str, rows: int, callers: int, start: int) -> float:
    fake = FakeProvider(fast_failure(), name="primary")
    messages = [message(start + i) for i in range(rows)]
    async with gateway(url, fake) as gw:

        async def caller(part: list[EmailMessage]) -> None:
            for msg in part:
                outcome = await gw.email_sending.send(msg)
                assert outcome.status is Status.DEFERRED, outcome.reason

        t0 = time.perf_counter()
        await asyncio.gather(*(caller(messages[i::callers]) for i in range(callers)))
        return rows / (time.perf_counter() - t0)


def replay(url: str, replayers: int, rows: int) -> float:
    done = [0] * replayers

    def one(n: int) -> None:
        async def run() -> None:
            async with gateway(url, FakeProvider(healthy(), name="primary")) as gw:
                assert gw.outbox is not None
                while (report := await gw.outbox.replay()).claimed:
                    done[n] += report.done

        asyncio.run(run())

    threads = [threading.Thread(target=one, args=(n,)) for n in range(replayers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    assert sum(done) == rows, (done, rows)
    return rows / elapsed


def measure(url: str, rows: int) -> list[tuple[str, float]]:
    results = []
    results.append(("enqueue, 1 caller", asyncio.run(enqueue(url, rows, 1, 0))))
    results.append(("replay, 1 replayer", replay(url, 1, rows)))
    results.append(("enqueue, 8 callers", asyncio.run(enqueue(url, rows, 8, rows))))
    results.append(("replay, 4 replayers", replay(url, 4, rows)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    import psycopg

    schema = f"outbox_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES else "?"
    in_schema = f"{POSTGRES}{sep}options=-csearch_path%3D{schema}"
    table = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            backends = {
                "SQLite (WAL, synchronous=FULL)": f"sqlite:///{Path(folder) / 'outbox.db'}",
                "PostgreSQL (local, SKIP LOCKED)": in_schema,
            }
            for name, url in backends.items():
                for what, rate in measure(url, args.rows):
                    table.append(f"| {name} | {what} | {rate:,.0f} |")
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print(f"Machine: {describe()}")
    print(f"\nCommand: `python benchmarks/outbox_rates.py --rows {args.rows}`\n")
    print("| backend | what | rows/s |\n|---|---|---:|")
    print("\n".join(table))


if __name__ == "__main__":
    main()
