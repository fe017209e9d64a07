"""Slow successes never fail calls: six processes sharing one SQLite CRM.

The issue's reproduction: six processes upsert contacts into the built-in ``sqlite`` CRM, one
database file, many calls in flight each. The provider never raises (SQLite's busy timeout
makes writers wait), but lock contention makes some successes far slower than usual; those
count as slow calls and open the breaker. Before slow-only breakers were demotions, 17-62% of
the calls then failed with "every provider was unavailable". Now none may fail.

The virtual-time version of the same rule is ``tests/test_slow_calls.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROCESSES = 6
CALLS = 240  # per process
IN_FLIGHT = 24  # per process

WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from collections import Counter
    from aicmo_gateway import Gateway
    from aicmo_gateway.ports import Contact

    database = sys.argv[1]
    worker, calls, in_flight = (int(arg) for arg in sys.argv[2:5])
    config = {
        "capabilities": {"crm_sync": {"providers": ["crm"]}},
        "providers": {"crm": {"type": "sqlite", "path": database}},
    }

    async def main():
        gateway = Gateway.from_config(config, env={})
        slots = asyncio.Semaphore(in_flight)

        async def one(i):
            async with slots:
                contact = Contact(email=f"w{worker}-{i}@example.com", first_name="Ada")
                return await gateway.crm_sync.upsert_contact(contact)

        outcomes = await asyncio.gather(*(one(i) for i in range(calls)))
        await gateway.aclose()
        skipped = sum(a.action == "skip" for o in outcomes for a in o.attempts)
        failed = [o.reason for o in outcomes if not o.ok]
        print(json.dumps({
            "statuses": Counter(o.status.value for o in outcomes),
            "skips": skipped,
            "first_failure": failed[0] if failed else None,
        }))

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    folder: Path = tmp_path_factory.mktemp("shared-crm")
    script = folder / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    database = folder / "crm.db"
    env = {**os.environ, "AICMO_GATEWAY_LOAD_PLUGINS": ""}
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(database), str(n), str(CALLS), str(IN_FLIGHT)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(PROCESSES)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_six_processes_on_one_sqlite_crm_fail_no_call(runs: list[dict]) -> None:
    total = PROCESSES * CALLS
    ok = sum(run["statuses"].get("ok", 0) for run in runs)
    failures = [run["first_failure"] for run in runs if run["first_failure"]]
    assert ok == total, f"{total - ok} of {total} calls failed, e.g. {failures[0]}"
