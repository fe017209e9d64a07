"""A fleet of worker processes sharing the real Redis (and, for the cooldown and the ledger,
one SQLite file): one breaker, one cooldown, one ledger.

Each worker is a separate Python process (``tests/fleet/worker.py``) with its own gateway;
they share only Redis (a namespace of their own, deleted afterwards) and a file where the
counting provider appends one line per send it performs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.store_backends import REDIS_URL, delete_namespace, need_redis, redis_answers

WORKER = Path(__file__).parent / "fleet" / "worker.py"


@pytest.fixture
async def namespace():
    name = f"fleet-{uuid.uuid4().hex[:12]}"
    yield name
    if redis_answers():
        await delete_namespace(name)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["AICMO_GATEWAY_LOAD_PLUGINS"] = ""  # only the worker's own provider type
    return env


def start(args: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def run_together(workers: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Start every worker, let them all go at once, and return each one's call lines."""
    procs = [start(args) for args in workers]
    try:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append([json.loads(line) for line in out.splitlines() if line.strip()])
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def performed(count_file: Path) -> list[tuple[str, str]]:
    if not count_file.exists():
        return []
    lines = count_file.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split(" ", 1)) for line in lines]  # type: ignore[misc]


def worker(namespace: str, count_file: Path, mode: str, keys: list[str], **extra: Any) -> dict:
    return {
        "store": extra.pop("store", REDIS_URL),
        "name": namespace,
        "count_file": str(count_file),
        "mode": mode,
        "keys": keys,
        **extra,
    }


def test_a_hard_down_primary_gets_at_most_threshold_plus_workers_attempts(namespace, tmp_path):
    need_redis()
    count_file, threshold, workers = tmp_path / "sent.txt", 5, 4
    results = run_together(
        [
            worker(namespace, count_file, "down", [f"w{w}-{i}" for i in range(25)])
            for w in range(workers)
        ]
    )
    calls = [line for lines in results for line in lines if "key" in line]
    attempts_on_primary = sum(line["primary"].count("fallback") for line in calls)
    assert attempts_on_primary <= threshold + workers
    assert all(line["status"] == "ok" and line["provider"] == "backup" for line in calls)
    # and then every worker skips it: each one's last calls never tried it
    for lines in results:
        tail = [line for line in lines if "key" in line][-5:]
        assert all(line["primary"] == ["skip"] for line in tail), tail
    assert Counter(p for p, _ in performed(count_file)) == {"backup": workers * 25}


@pytest.mark.parametrize("store", ["redis", "sqlite"])
def test_a_429_seen_by_one_worker_is_respected_by_all(namespace, tmp_path, store):
    if store == "redis":
        need_redis()
    count_file = tmp_path / "sent.txt"
    url = REDIS_URL if store == "redis" else f"sqlite:///{tmp_path / 'fleet.db'}"
    [first] = run_together([worker(namespace, count_file, "429", ["first"], store=url)])
    assert first[0]["primary"] == ["fallback"]
    others = run_together(
        [
            worker(namespace, count_file, "429", [f"w{w}-{i}" for i in range(5)], store=url)
            for w in range(3)
        ]
    )
    calls = [line for lines in others for line in lines if "key" in line]
    assert len(calls) == 15
    assert all(line["primary"] == ["skip"] and line["provider"] == "backup" for line in calls)


@pytest.mark.parametrize("store", ["redis", "sqlite"])
def test_two_workers_sending_the_same_200_keys_perform_each_once(namespace, tmp_path, store):
    if store == "redis":
        need_redis()
    count_file = tmp_path / "sent.txt"
    url = REDIS_URL if store == "redis" else f"sqlite:///{tmp_path / 'fleet.db'}"
    keys = [f"lead-{i}" for i in range(200)]
    results = run_together(
        [worker(namespace, count_file, "ok", keys, latency=0.002, store=url) for _ in range(2)]
    )
    done = performed(count_file)
    assert len(done) == 200
    assert Counter(key for _, key in done) == Counter(keys)
    calls = [line for lines in results for line in lines if "key" in line]
    assert len(calls) == 400 and all(line["status"] == "ok" for line in calls)
    assert sum(line["replayed"] for line in calls) == 200
