"""What the pipeline's command-line tests share: running the command, in this process or as
a child process read line by line, and looking at the files a run leaves."""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner

import aicmo_gateway
from aicmo_gateway.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "leads.csv"
CORE = Path(aicmo_gateway.__file__).resolve().parent.parent

#: an ``email_sending`` chain of one Maildir, ``./Maildir``, to append to a config
MAILDIR = """
[capabilities.email_sending]
providers = ["box"]
[providers.box]
type = "maildir"
path = "Maildir"
"""


def invoke(*args: str) -> tuple[int, str]:
    """``aicmo-gateway pipeline run ARGS`` in this process: its exit code and output."""
    result = CliRunner().invoke(cli, ["pipeline", "run", *args], catch_exceptions=False)
    return result.exit_code, result.output


def invoke_jsonl(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    """``pipeline run ARGS --jsonl`` in this process: its exit code, the records on standard
    output (nothing else may be there), and standard error."""
    result = CliRunner().invoke(cli, ["pipeline", "run", *args, "--jsonl"], catch_exceptions=False)
    return (
        result.exit_code,
        [json.loads(line) for line in result.stdout.splitlines()],
        result.stderr,
    )


def write(folder: Path, *, config: str | None = None, leads: str | bytes | None = None) -> Path:
    """Write ``aicmo-gateway.toml`` and ``leads.csv`` into ``folder``; the leads file."""
    if config is not None:
        (folder / "aicmo-gateway.toml").write_text(config, encoding="utf-8")
    path = folder / "leads.csv"
    if isinstance(leads, bytes):
        path.write_bytes(leads)
    elif leads is not None:
        path.write_text(leads, encoding="utf-8")
    return path


def numbered_leads(total: int) -> str:
    """A CSV of ``total`` leads, ``lead0@example.com`` onwards."""
    return "email,first_name,company\n" + "".join(
        f"lead{i}@example.com,Lead{i},Acme\n" for i in range(total)
    )


def messages(maildir: Path) -> list[Path]:
    return sorted((maildir / "new").iterdir()) if (maildir / "new").is_dir() else []


def message_ids(maildir: Path) -> list[str]:
    return [message_from_bytes(p.read_bytes())["Message-ID"] for p in messages(maildir)]


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def child_env(*paths: Path) -> dict[str, str]:
    """This environment for a child process, with ``paths`` and the core first on its path."""
    env = {k: v for k, v in os.environ.items() if k != "AICMO_GATEWAY_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), str(CORE), env.get("PYTHONPATH", "")])
    return env


class Child:
    """``aicmo-gateway pipeline run leads.csv ARGS`` in ``workdir`` as a child process, its
    output read line by line as it comes, so a test waits for a line instead of sleeping."""

    def __init__(self, workdir: Path, *args: str, path: tuple[Path, ...] = ()) -> None:
        self.command = [sys.executable, "-m", "aicmo_gateway", "pipeline", "run", "leads.csv"]
        self.command += args
        self.workdir = workdir
        self.process = subprocess.Popen(
            self.command,
            cwd=workdir,
            env=child_env(*path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(name, getattr(self.process, name)))
            for name in self.out
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            self.out[name].append(line)
            self._lines.put((name, line))
        stream.close()
        self._lines.put((name, None))

    def text(self, name: str = "stderr") -> str:
        return "".join(self.out[name])

    def wait_until(self, seen: Callable[[str, str], bool], what: str) -> None:
        """Until ``seen(stream, line)`` is true of a new line (60 seconds at most)."""
        while True:
            try:
                name, line = self._lines.get(timeout=60)
            except queue.Empty:
                pytest.fail(f"no {what} within 60s: {self.text()[-2000:]}")
            if line is None:  # a stream closes when the process ends
                pytest.fail(f"the run ended before {what}: {self.text()[-2000:]}")
            if seen(name, line):
                return

    def wait_for(self, text: str) -> None:
        """Until a line of standard error contains ``text``."""
        self.wait_until(lambda name, line: name == "stderr" and text in line, repr(text))

    def wait_for_leads(self, count: int) -> None:
        """Until ``count`` lines on standard output start with ``line`` (or are JSON leads)."""
        done = [0]

        def seen(name: str, line: str) -> bool:
            if name == "stdout" and line.startswith(("line ", '{"type": "lead"')):
                done[0] += 1
            return done[0] >= count

        self.wait_until(seen, f"{count} leads")

    def end(self) -> int:
        """Wait for the exit (60 seconds at most); its code."""
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for reader in self._readers:
                reader.join()

    def records(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """With ``--jsonl``, after :meth:`end`: the lead lines, and the summary."""
        records = [json.loads(line) for line in self.out["stdout"]]
        assert records and records[-1]["type"] == "summary", self.text()[-2000:]
        return [r for r in records if r["type"] == "lead"], records[-1]
