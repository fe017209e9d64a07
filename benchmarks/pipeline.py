"""The lead pipeline on the embedded defaults: leads per second, and peak memory on a big file.

Each measurement runs ``aicmo-gateway pipeline run LEADS.csv --quiet --json`` in a fresh
folder with no configuration (so the embedded defaults: the ``dns`` verifier without DNS when
installed, the SQLite CRM, the Maildir sender, the outbox and the journal on SQLite) as a
subprocess, on a CSV generated on the fly, and reads the child's peak resident memory
(``ru_maxrss``) when it ends:

- **throughput**: ``--leads`` leads (default 2,000) at concurrency 1 and 8, every step real
  (files in the Maildir, rows in the CRM, the journal);
- **peer**: the same provider calls made by a plain loop with no gateway, no chain and no
  journal (``MaildirSender.send``, ``SqliteCrm.upsert_contact`` and ``log_engagement``, the
  verifier), in one process: what the pipeline's bookkeeping costs on top of the providers;
- **memory**: the whole pipeline on ``--rows`` rows (default 100,000), and on a tenth of them:
  with streaming, the peak should not grow with the file; for scale, the peak of a process that
  only reads the same file into a list of dicts (``list(csv.DictReader(...))``). With
  ``--jsonl`` the runs stream a JSON line per lead (``--jsonl`` instead of ``--json``), read
  one at a time by this script, as a consumer of a big run would.

    python benchmarks/pipeline.py [--leads 2000] [--rows 100000] [--memory-only] [--jsonl]

The 100,000-row run takes as long as 100,000 real leads (minutes: the SQLite CRM commits each
write to disk); ``--rows 20000`` gives the shape faster.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import describe  # benchmarks/machine.py (run as a file)

ROOT = Path(__file__).resolve().parent.parent


def write_leads(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "company", "title", "domain"])
        for i in range(count):
            writer.writerow(
                [
                    f"lead{i}@example.com",
                    f"Ann{i}",
                    "Lee",
                    f"Company {i % 997}",
                    "CTO",
                    "example.com",
                ]
            )


def child(command: list[str], cwd: Path) -> tuple[dict[str, Any] | None, float, float]:
    """Run ``command``; return its JSON output (with ``--jsonl``: its last line, the summary,
    once every line parsed), wall seconds and its own peak RSS in MiB."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        if "--jsonl" in command:
            out, shown = "", 0
            for line in process.stdout:  # one at a time, as a consumer would
                record = json.loads(line)
                out = line.decode("utf-8")
                email = record.get("steps", {}).get("email", {})
                if email.get("status", "ok") != "ok" and shown < 20:  # why a lead was not sent
                    print(f"  not sent: {out.strip()}", file=sys.stderr)
                    shown += 1
        else:
            out = process.stdout.read().decode("utf-8")
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if process.returncode not in (0, 1):
            errors.seek(0)
            text = errors.read().decode("utf-8", "replace")[-2000:]
            raise SystemExit(f"{command} failed ({process.returncode}): {text}")
    report = json.loads(out) if out.strip().startswith("{") else None
    return report, elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def pipeline(
    leads: int, concurrency: int, output: str = "--json"
) -> tuple[float, float, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_leads(folder / "leads.csv", leads)
        command = [sys.executable, "-m", "aicmo_gateway", "pipeline", "run", "leads.csv"]
        command += ["--quiet", output, "--concurrency", str(concurrency)]
        report, _, rss = child(command, folder)
        assert report is not None
        sent = len(os.listdir(folder / "aicmo-data" / "Maildir" / "new"))
        if sent != leads:  # said, not asserted: the figures of a long run are kept
            email = {k: v for k, v in report["steps"]["email"].items() if v and k != "providers"}
            print(f"  ({sent:,} messages for {leads:,} leads: {email})", file=sys.stderr)
        return report["elapsed_seconds"], rss, report


PEER = r"""
import asyncio, csv, sys, time
from pathlib import Path
from aicmo_gateway.builtin.maildir import MaildirSender
from aicmo_gateway.builtin.sqlite_crm import SqliteCrm
from aicmo_gateway.ports import Contact, EmailMessage, Engagement

folder = Path(sys.argv[1])
sender = MaildirSender(folder / "Maildir", domain="example.com")
crm = SqliteCrm(folder / "crm.db")
try:
    from aicmo_gateway_verify.verifier import DnsEmailVerifier
    verifier = DnsEmailVerifier.from_settings(check_mx=False, timeout=2)
except ImportError:
    verifier = None


async def main():
    started = time.perf_counter()
    with open(folder / "leads.csv", encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            if verifier is not None:
                await verifier.verify(row["email"])
            crm.upsert_contact(Contact(email=row["email"], first_name=row["first_name"],
                                       company=row["company"]))
            message = EmailMessage(to=row["email"], subject=f"Hello {row['company']}",
                                   text=f"Hi {row['first_name']}",
                                   message_id=f"<{i}.peer@example.com>")
            receipt = sender.send(message)
            crm.log_engagement(Engagement(contact_email=row["email"], kind="email_sent",
                                          external_id=receipt.message_id))
    return time.perf_counter() - started


print(asyncio.run(main()))
"""

LOAD_ALL = r"""
import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    rows = list(csv.DictReader(handle))
print(len(rows))
"""


def peer(leads: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_leads(folder / "leads.csv", leads)
        done = subprocess.run(
            [sys.executable, "-c", PEER, str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(done.stdout.strip())


def load_all(rows: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leads.csv"
        write_leads(path, rows)
        _, _, rss = child([sys.executable, "-c", LOAD_ALL, str(path)], Path(tmp))
        return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--memory-only", action="store_true", help="Skip the throughput runs and the peer."
    )
    parser.add_argument(
        "--jsonl", action="store_true", help="Memory runs stream --jsonl instead of --json."
    )
    args = parser.parse_args()
    print(f"Machine: {describe()}")
    print(f"Command: python benchmarks/pipeline.py {' '.join(sys.argv[1:])}\n")

    if not args.memory_only:
        throughput(args.leads)
    memory(args.rows, "--jsonl" if args.jsonl else "--json")


def throughput(leads_count: int) -> None:
    results = []
    peer_s = peer(leads_count)
    results.append(("plain loop, same provider calls (peer)", 1, leads_count, peer_s, None))
    for concurrency in (1, 8):
        elapsed, rss, _ = pipeline(leads_count, concurrency)
        results.append(("pipeline run, embedded defaults", concurrency, leads_count, elapsed, rss))
    print("| what | concurrency | leads | seconds | leads/s | vs peer | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for what, concurrency, leads, seconds, rss in results:
        rate = leads / seconds
        print(
            f"| {what} | {concurrency} | {leads:,} | {seconds:.1f} | {rate:.0f} | "
            f"{peer_s / seconds:.2f}x | {'-' if rss is None else f'{rss:.0f} MiB'} |"
        )


def memory(rows_count: int, output: str) -> None:
    print(f"\nPeak memory (ru_maxrss of the child process), concurrency 8, {output}:\n")
    print("| what | rows | seconds | leads/s | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    small = max(rows_count // 10, 1)
    loaded = load_all(rows_count)
    for rows in (small, rows_count):
        elapsed, rss, _ = pipeline(rows, 8, output)
        print(
            f"| pipeline run {output}, embedded defaults | {rows:,} | {elapsed:.0f} | "
            f"{rows / elapsed:.0f} | {rss:.0f} MiB |"
        )
    print(
        f"| list(csv.DictReader(file)) only (for scale) | {rows_count:,} | - | - | "
        f"{loaded:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
