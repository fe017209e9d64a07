"""The built-in Maildir sender's cost per send as the folder grows (its Message-ID index).

Sends ``--sends`` messages with distinct Message-IDs into a fresh Maildir and prints the mean
time per send of the first and of the last ``--window`` sends: with an index read only where it
grew, the two stay close; read whole on every send, the last ones cost in proportion to the
folder.

    python benchmarks/maildir_index.py [--sends 20000] [--window 500]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

from aicmo_gateway.builtin.maildir import MaildirSender
from aicmo_gateway.ports import EmailMessage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aicmo-maildir-bench-"))
    sender = MaildirSender(folder / "box")

    def timed(start: int, count: int) -> float:
        began = time.perf_counter()
        for n in range(start, start + count):
            sender.send(
                EmailMessage(to="a@example.com", subject="Hi", text="x", message_id=f"<{n}@b>")
            )
        return (time.perf_counter() - began) / count * 1e6

    try:
        first = timed(0, args.window)
        timed(args.window, args.sends - 2 * args.window)
        last = timed(args.sends - args.window, args.window)
    finally:
        shutil.rmtree(folder)
    print(f"{platform.python_implementation()} {platform.python_version()}, {args.sends} sends")
    print(f"| sends | µs per send, first {args.window} | µs per send, last {args.window} |")
    print("|---:|---:|---:|")
    print(f"| {args.sends:,} | {first:.0f} | {last:.0f} |")


if __name__ == "__main__":
    main()
