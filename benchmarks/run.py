"""Run every benchmark, print the issue's table (ours vs the peers), write ``results.json``.

    python -m benchmarks.run                 # everything (about 3 minutes)
    python -m benchmarks.run --no-litellm    # skip LiteLLM (its scenarios are real-clock)
    python -m benchmarks.run --quick         # fewer overhead samples

Scenario logic runs on the virtual clock; overhead, throughput and LiteLLM's scenarios on
the real clock. Our chain runs with default settings except where a row says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import overhead, stores
from benchmarks.machine import cpu_name
from benchmarks.peers import Composition, run_litellm
from benchmarks.report import COMP, OURS, table
from benchmarks.scenarios import Ours, run_system

RESULTS = Path(__file__).with_name("results.json")


def machine() -> dict[str, Any]:
    cpu = cpu_name()
    versions = {}
    for dist in ("aicmo-gateway", "tenacity", "aiobreaker", "litellm"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
        "command": " ".join(["python -m benchmarks.run", *sys.argv[1:]]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--no-litellm", action="store_true", help="skip LiteLLM (real-clock runs)")
    parser.add_argument("--quick", action="store_true", help="fewer overhead samples")
    parser.add_argument(
        "--no-stores", action="store_true", help="skip the SQLite and Redis store figures"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    res: dict[str, Any] = {"machine": machine()}
    quick = args.quick
    stages: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (OURS, lambda: run_system(Ours(), ours=True)),
        (COMP, lambda: run_system(Composition(), ours=False)),
        # real-clock timing before LiteLLM is imported (its logging worker keeps running)
        ("overhead", lambda: overhead.run(n=1000 if quick else 5000)),
    ]
    if not args.no_stores:
        stages.append(("stores", lambda: stores.run(n=500 if quick else 2000)))
    if not args.no_litellm:
        stages.append(
            ("litellm", lambda: {**overhead.run_litellm(100 if quick else 300), **run_litellm()})
        )
    for name, stage in stages:
        t0 = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        res[name] = stage()
        print(f"  {name}: {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    res["machine"]["seconds"] = round(time.perf_counter() - began, 1)
    args.output.write_text(json.dumps(res, indent=1, default=str) + "\n")
    m = res["machine"]
    print(
        f"{m['date']} · {m['cpu']} · nproc {m['nproc']} · Python {m['python']} · "
        f"{', '.join(f'{k} {v}' for k, v in m['versions'].items())}\n"
    )
    print(table(res))
    if "stores" in res:
        print("\nshared state stores (wall time; benchmarks/stores.py):\n")
        print(stores.table(res["stores"]))
    print(f"\nwrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
