"""The suppression check's cost per send: SQLite with a million entries, and PostgreSQL.

For each store the list holds ``--entries`` addresses (default 1,000,000) and a few domains;
the script then times, ``--sends`` times each:

- **check**: ``Compliance.prepare`` alone, what ``gateway.email_sending.send`` adds before the
  chain (a recipient not on the list, and one that is);
- **send, list on / off**: a whole ``send`` through a ``noop`` provider with the list and with
  ``[email] suppression = "off"``; the difference is the check's share of a real send.

On PostgreSQL it also counts the statements one send runs (the target is one). Without a
server at ``--postgres`` (default ``postgresql://postgres@127.0.0.1:5432/test``) that part is
skipped. The PostgreSQL rows are made server-side (``generate_series``) and removed afterwards.

    python benchmarks/suppression.py [--entries 1000000] [--sends 20000]

Target (issue #13): under 20 µs per send with 1,000,000 suppressed addresses on SQLite; one
query per send on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from machine import describe  # benchmarks/machine.py (run as a file)

from aicmo_gateway import Gateway
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.suppression import Entry, Reason, open_store

TARGET_US = 20.0


def gateway(email: dict[str, Any]) -> Gateway:
    return Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["n"]}},
            "providers": {"n": {"type": "noop"}},
            "gateway": {"audit_size": 0},
            "email": email,
        },
        env={},
    )


async def per_call_us(call: Any, n: int, rounds: int = 7) -> float:
    """The best over ``rounds`` of the mean time of ``n`` awaited calls, in microseconds.

    The best round, as ``timeit`` reports, because other work on a shared machine only ever
    adds time; the rounds interleave nothing else.
    """
    results = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            await call()
        results.append((time.perf_counter() - t0) / n * 1e6)
    return min(results)


async def measure(g: Gateway, off: Gateway, sends: int, entries: int) -> dict[str, float]:
    free = EmailMessage(to="Someone <free@example.net>", subject="Hi", text="x")
    blocked = EmailMessage(to=f"user{entries // 2}@example.com", subject="Hi", text="x")
    compliance = g.email_sending.compliance
    assert compliance is not None
    assert (await compliance.prepare(blocked)).message is None
    assert (await compliance.prepare(free)).message is free
    return {
        "check, recipient not on the list": await per_call_us(
            lambda: compliance.prepare(free), sends
        ),
        "check, recipient on the list": await per_call_us(
            lambda: compliance.prepare(blocked), sends
        ),
        "send, list on": await per_call_us(lambda: g.email_sending.send(free), sends // 4),
        "send, list off": await per_call_us(lambda: off.email_sending.send(free), sends // 4),
    }


def fill_sqlite(dsn: str, entries: int) -> float:
    store = open_store(dsn)
    at = datetime.now(UTC)
    t0 = time.perf_counter()
    batch = 100_000
    for start in range(0, entries, batch):
        store.add_many(
            [
                Entry(f"user{i}@example.com", Reason.UNSUBSCRIBED, "bench", at)
                for i in range(start, min(start + batch, entries))
            ]
        )
    store.add_many([Entry(f"@blocked{i}.example", Reason.MANUAL, "bench", at) for i in range(10)])
    store.close()
    return time.perf_counter() - t0


def fill_postgres(dsn: str, entries: int) -> None:
    import psycopg

    open_store(dsn).entries(Reason.COMPLAINT)  # creates the table
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("DELETE FROM aicmo_suppression WHERE source = 'bench'")
        db.execute(
            "INSERT INTO aicmo_suppression (target, reason, source, created_at) "
            "SELECT 'user' || i || '@example.com', 'unsubscribed', 'bench', now() "
            "FROM generate_series(0, %s) AS i",
            (entries - 1,),
        )
        db.execute("ANALYZE aicmo_suppression")


def count_statements(g: Gateway) -> int:
    """Statements one send to a recipient not on the list runs against PostgreSQL."""
    store: Any = g.suppression.store
    asyncio.run(g.suppression.check("warm@example.net"))  # connect, create the table
    seen: list[str] = []
    execute = store._db.execute

    def counting(query: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(query)
        return execute(query, *args, **kwargs)

    store._db.execute = counting
    asyncio.run(g.email_sending.send(EmailMessage(to="x@example.net", subject="Hi", text="x")))
    store._db.execute = execute
    return len(seen)


def table(title: str, rows: dict[str, float], note: str = "") -> str:
    lines = [f"### {title}", "", "| what | µs per call |", "|---|---:|"]
    lines += [f"| {name} | {value:.1f} |" for name, value in rows.items()]
    delta = rows["send, list on"] - rows["send, list off"]
    lines.append(f"| send: on minus off | {delta:.1f} |")
    if note:
        lines += ["", note]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=20_000)
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help="'' to skip"
    )
    args = parser.parse_args()
    print(f"Machine: {describe()}\n")
    print(f"Command: `python benchmarks/suppression.py {' '.join(sys.argv[1:])}`".strip() + "\n")
    off = gateway({"suppression": "off"})
    with tempfile.TemporaryDirectory() as folder:
        dsn = f"sqlite:///{folder}/suppression.db"
        filled = fill_sqlite(dsn, args.entries)
        g = gateway({"suppression": dsn})
        rows = asyncio.run(measure(g, off, args.sends, args.entries))
        g.suppression.close()
        check = max(rows["check, recipient not on the list"], rows["check, recipient on the list"])
        verdict = "meets" if check < TARGET_US else "MISSES"
        print(
            table(
                f"SQLite, {args.entries:,} entries (filled in {filled:.1f} s)",
                rows,
                f"The check {verdict} the {TARGET_US:.0f} µs target ({check:.1f} µs).",
            )
            + "\n"
        )
    if not args.postgres:
        return
    try:
        fill_postgres(args.postgres, args.entries)
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}: {exc}")
        return
    try:
        g = gateway({"suppression": args.postgres})
        statements = count_statements(g)
        rows = asyncio.run(measure(g, off, max(args.sends // 10, 100), args.entries))
        print(
            table(
                f"PostgreSQL (local server), {args.entries:,} entries",
                rows,
                f"Statements per send: {statements} (target: 1).",
            )
        )
        g.suppression.close()
    finally:
        import psycopg

        with psycopg.connect(args.postgres, autocommit=True) as db:
            db.execute("DELETE FROM aicmo_suppression WHERE source = 'bench'")


if __name__ == "__main__":
    main()
