"""The idempotency ledger's cost per write as it fills up to its bound, and its memory.

Claims, records and releases ``--writes`` distinct keyed writes in batches of ``--batch``
and prints the CPU time per write of each batch (the ledger holds at most 100,000 writes:
the batches past it show the cost at the bound), then the memory traced for 100,000 kept
writes. For a before/after comparison, run it once per tree (``PYTHONPATH=<tree>/core``).

    python benchmarks/ledger.py [--writes 160000] [--batch 20000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from aicmo_gateway.engine.ledger import MemoryLedger, entry_of
from aicmo_gateway.outcome import Outcome, Status


def _outcomes(count: int, tag: str) -> list[Outcome]:
    return [
        Outcome(
            Status.OK,
            value=object(),
            provider="p",
            attempts=(),
            call_id=f"c{i}",
            capability="email_sending",
            operation="send",
            idempotency_key=f"auto-{tag}{i:031x}",
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=160_000)
    parser.add_argument("--batch", type=int, default=20_000)
    args = parser.parse_args()
    ledger = MemoryLedger()
    outcomes = _outcomes(args.writes, "a")
    print("writes so far   µs per claim + record + release (CPU)")
    for start in range(0, args.writes, args.batch):
        batch = outcomes[start : start + args.batch]
        began = time.process_time()
        for outcome in batch:
            entry = entry_of("email_sending", "send", outcome.idempotency_key or "")
            ledger.claim_new(entry)
            ledger.record(outcome, entry)
            ledger.release(entry)
        spent = time.process_time() - began
        print(f"{start + len(batch):>13,}   {spent / len(batch) * 1e6:.2f}")
    kept = _outcomes(100_000, "b")
    tracemalloc.start()
    fresh = MemoryLedger()
    for outcome in kept:
        fresh.record(outcome)
    print(f"100,000 writes kept: {tracemalloc.get_traced_memory()[0] / 1e6:.1f} MB traced")


if __name__ == "__main__":
    main()
