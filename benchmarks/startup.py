"""Start-up time: ``import aicmo_gateway``, ``aicmo-gateway --help`` and ``aicmo-gateway plugins``.

Each command runs in a fresh interpreter, ``--runs`` times, interleaved with a bare
``python -c pass`` in the same rounds, so that a busy machine slows every row alike; the
table gives the median and the fastest run of each, and the median over the bare
interpreter. ``-X importtime`` gives the import cost of the package itself (the
``aicmo_gateway`` line's cumulative time, best of the runs). Bytecode is written on a
warm-up run first (``PYTHONDONTWRITEBYTECODE`` is dropped), as an installed package has it.

    python benchmarks/startup.py [--runs 40]

Targets (issue #8): ``--help`` and ``plugins`` under 150 ms wall with every in-repository
plugin installed; ``import aicmo_gateway`` under 60 ms over a bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS_MS = {"--help": 150.0, "plugins": 150.0, "import": 60.0}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["AICMO_GATEWAY_CONFIG"] = ""
    return env


def _script() -> str:
    found = Path(sys.executable).with_name("aicmo-gateway")
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


def _machine() -> str:
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _plugins(env: dict[str, str]) -> str:
    done = subprocess.run([_script(), "plugins", "--json"], env=env, capture_output=True, text=True)
    import json

    try:
        data = json.loads(done.stdout)
    except ValueError:
        return "(plugins --json failed)"
    return ", ".join(f"{p['distribution']} ({p['status']})" for p in data["plugins"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each command")
    args = parser.parse_args()
    env = _env()
    script = _script()
    commands = {
        "python -c pass (bare interpreter)": [sys.executable, "-c", "pass"],
        "import": [sys.executable, "-c", "import aicmo_gateway"],
        "--help": [script, "--help"],
        "plugins": [script, "plugins"],
    }
    for argv in commands.values():  # warm-up: bytecode written, files in the page cache
        _once(argv, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            wall, used = _once(argv, env)
            times[name].append(wall)
            cpu[name].append(used)
    bare = statistics.median(times["python -c pass (bare interpreter)"]) * 1000
    load = os.getloadavg()[0]
    print(f"Machine: {_machine()} (`nproc` = {os.cpu_count()})")
    print(f"Plugins: {_plugins(env)}")
    print(f"Command: `python benchmarks/startup.py --runs {args.runs}`; load average {load:.1f}\n")
    print(
        "| command | median ms | fastest ms | median over bare ms | CPU ms (median) "
        "| target | met |"
    )
    print("|---|---:|---:|---:|---:|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples) * 1000
        label = {
            "import": "python -c 'import aicmo_gateway'",
            "--help": "aicmo-gateway --help",
            "plugins": "aicmo-gateway plugins",
        }.get(name, name)
        if name == "import":
            target, value = f"< {TARGETS_MS[name]:.0f} ms over bare", median - bare
        elif name in TARGETS_MS:
            target, value = f"< {TARGETS_MS[name]:.0f} ms wall", median
        else:
            print(
                f"| {label} | {median:.1f} | {min(samples) * 1000:.1f} | - "
                f"| {statistics.median(cpu[name]) * 1000:.1f} | - | - |"
            )
            continue
        met = "yes" if value < TARGETS_MS[name] else "no"
        print(
            f"| {label} | {median:.1f} | {min(samples) * 1000:.1f} | {median - bare:.1f} "
            f"| {statistics.median(cpu[name]) * 1000:.1f} | {target} | {met} |"
        )
    cost = _import_cost_ms(env, max(5, args.runs // 4))
    print(f"\n`python -X importtime -c 'import aicmo_gateway'`: {cost:.1f} ms (best run)")


if __name__ == "__main__":
    main()
