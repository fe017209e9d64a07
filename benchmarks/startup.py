"""Start-up time: ``import aicmo_gateway``, ``aicmo-gateway --help`` and ``aicmo-gateway plugins``.

Each command runs in a fresh interpreter, ``--runs`` times, interleaved with a bare
``python -c pass`` in the same rounds, so that a busy machine slows every row alike; the
table gives the median and the fastest run of each, and the median over the bare
interpreter. ``-X importtime`` gives the import cost of the package itself (the
``aicmo_gateway`` line's cumulative time, best of the runs). Bytecode is written on a
warm-up run first (``PYTHONDONTWRITEBYTECODE`` is dropped), as an installed package has it.

    python benchmarks/startup.py [--runs 40] [--baseline OTHER_VENV/bin/python]

``--baseline`` runs the same commands with another installation's interpreter (and its
``aicmo-gateway`` script) in the same rounds, alternating with this one, for a before/after
comparison under the same load.

Targets (issue #8): ``--help`` and ``plugins`` under 150 ms wall with every in-repository
plugin installed; ``import aicmo_gateway`` under 60 ms over a bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import describe  # benchmarks/machine.py (run as a file)

TARGETS_MS = {"--help": 150.0, "plugins": 150.0, "import": 60.0}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["AICMO_GATEWAY_CONFIG"] = ""
    return env


def _script(python: str = sys.executable) -> str:
    found = Path(python).with_name("aicmo-gateway")
    if found.exists():
        return str(found)
    on_path = shutil.which("aicmo-gateway")
    if on_path is None:
        raise SystemExit("aicmo-gateway is not installed next to this Python nor on PATH")
    return on_path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu() - cpu


def _import_cost_ms(env: dict[str, str], runs: int) -> float:
    """Best ``-X importtime`` cumulative time of the top-level ``aicmo_gateway`` line."""
    best = float("inf")
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import aicmo_gateway"],
            env=env,
            capture_output=True,
            text=True,
        ).stderr
        for line in err.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].rstrip() == " aicmo_gateway":
                best = min(best, int(parts[1]) / 1000)
    return best


def _plugins(env: dict[str, str]) -> str:
    done = subprocess.run([_script(), "plugins", "--json"], env=env, capture_output=True, text=True)
    import json

    try:
        data = json.loads(done.stdout)
    except ValueError:
        return "(plugins --json failed)"
    return ", ".join(f"{p['distribution']} ({p['status']})" for p in data["plugins"])


LABELS = {
    "bare": "python -c pass (bare interpreter)",
    "import": "python -c 'import aicmo_gateway'",
    "--help": "aicmo-gateway --help",
    "plugins": "aicmo-gateway plugins",
}


def _commands(python: str) -> dict[str, list[str]]:
    script = _script(python)
    return {
        "bare": [python, "-c", "pass"],
        "import": [python, "-c", "import aicmo_gateway"],
        "--help": [script, "--help"],
        "plugins": [script, "plugins"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each command")
    parser.add_argument(
        "--baseline",
        metavar="PYTHON",
        help="another installation's interpreter, run alternately for a before/after table",
    )
    args = parser.parse_args()
    env = _env()
    #: (installation, command) -> argv; the baseline's first in each round
    installs = {"": sys.executable}
    if args.baseline:
        installs = {" (baseline)": args.baseline, "": sys.executable}
    commands = {
        (tag, name): argv
        for tag, python in installs.items()
        for name, argv in _commands(python).items()
    }
    for argv in commands.values():  # warm-up: bytecode written, files in the page cache
        _once(argv, env)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in commands}
    cpu: dict[tuple[str, str], list[float]] = {key: [] for key in commands}
    for _ in range(args.runs):
        for key, argv in commands.items():
            wall, used = _once(argv, env)
            times[key].append(wall)
            cpu[key].append(used)
    load = os.getloadavg()[0]
    baseline = f" --baseline {args.baseline}" if args.baseline else ""
    print(f"Machine: {describe()} (`nproc` = {os.cpu_count()})")
    print(f"Plugins: {_plugins(env)}")
    print(
        f"Command: `python benchmarks/startup.py --runs {args.runs}{baseline}`; "
        f"load average {load:.1f}\n"
    )
    print(
        "| command | median ms | fastest ms | median over bare ms | CPU ms (median) "
        "| target | met |"
    )
    print("|---|---:|---:|---:|---:|---|---|")
    for (tag, name), samples in times.items():
        bare = statistics.median(times[(tag, "bare")]) * 1000
        median = statistics.median(samples) * 1000
        used = statistics.median(cpu[(tag, name)]) * 1000
        label = LABELS[name] + tag
        if name == "bare":
            fastest = min(samples) * 1000
            print(f"| {label} | {median:.1f} | {fastest:.1f} | - | {used:.1f} | - | - |")
            continue
        if name == "import":
            target, value = f"< {TARGETS_MS[name]:.0f} ms over bare", median - bare
        else:
            target, value = f"< {TARGETS_MS[name]:.0f} ms wall", median
        met = "yes" if value < TARGETS_MS[name] else "no"
        print(
            f"| {label} | {median:.1f} | {min(samples) * 1000:.1f} | {median - bare:.1f} "
            f"| {used:.1f} | {target} | {met} |"
        )
    cost = _import_cost_ms(env, max(5, args.runs // 4))
    print(f"\n`python -X importtime -c 'import aicmo_gateway'`: {cost:.1f} ms (best run)")


if __name__ == "__main__":
    main()
