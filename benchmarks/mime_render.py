"""Rendering one message to the bytes sent on the wire: the standard library's path versus the
fast path of ``aicmo_gateway.mime.render_message``, in the same run.

Rows, per message shape (µs per message, median of the runs):

* ``build_message + render``: what the SMTP plugin did before the fast path: build with the
  standard library, flatten and check with the file policy (inside ``build_message``), then
  flatten and check again with the wire policy;
* ``stdlib, checked once``: ``render_message``'s own fallback, the standard library's build,
  flattened and checked once with the wire policy;
* ``stdlib, flatten only``: the same without the check (what the ``email`` package costs);
* ``render_message``: the fast path (the script checks that it applies and that its bytes
  equal the standard library's).

Run: ``python benchmarks/mime_render.py [--messages 2000] [--runs 5]`` (or ``nox -s bench_mime``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from machine import describe  # benchmarks/machine.py (run as a file)

from aicmo_gateway.mime import SMTP_POLICY, build_message, render, render_message
from aicmo_gateway.mime.build import _build
from aicmo_gateway.mime.fast import render_simple
from aicmo_gateway.ports import EmailMessage

DATE = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def outreach(n: int, **changes: Any) -> EmailMessage:
    """The SMTP benchmark's message: text and HTML alternatives, four headers, no attachment."""
    fields: dict[str, Any] = {
        "to": f"Lead {n} <lead{n}@example.com>",
        "sender": "Sales <sales@example.com>",
        "subject": f"Our offer for you, lead {n}",
        "text": f"Hello lead {n},\n\nhere is our offer.\n\n-- \nSales\n" * 5,
        "html": f"<p>Hello <b>lead {n}</b>,</p><p>here is our offer.</p>" * 5,
        "message_id": f"<bench-{n}@example.com>",
    }
    fields.update(changes)
    return EmailMessage(**fields)


SHAPES: dict[str, Callable[[int], EmailMessage]] = {
    "outreach (text + html, ASCII)": outreach,
    "outreach, non-ASCII bodies, long subject, List-Unsubscribe": lambda n: outreach(
        n,
        subject=f"Lead {n}: a follow-up on the offer we sent you last week, with new prices",
        text=f"Grüße, lead {n} \u2013 voilà notre offre à 20 €.\n" * 8,
        html=f"<p>Grüße, <b>lead {n}</b> \u2013 voilà notre offre à 20 €.</p>\n" * 8,
        headers=[
            ("List-Unsubscribe", f"<mailto:unsubscribe@example.com?subject=lead-{n}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ],
    ),
    "outreach, non-ASCII subject": lambda n: outreach(
        n, subject=f"Grüße, lead {n}: unser Angebot für Sie \u2713"
    ),
    "text only": lambda n: outreach(n, html=None),
}


def _old(message: EmailMessage) -> bytes:
    return render(build_message(message, date=DATE), policy=SMTP_POLICY)


def _checked_once(message: EmailMessage) -> bytes:
    return render(
        _build(message, message.sender or "", None, "localhost", DATE), policy=SMTP_POLICY
    )


def _flatten_only(message: EmailMessage) -> bytes:
    built = _build(message, message.sender or "", None, "localhost", DATE)
    return built.as_bytes(policy=SMTP_POLICY)


def _fast(message: EmailMessage) -> bytes:
    return render_message(message, policy=SMTP_POLICY, date=DATE)[0]


CLIENTS: dict[str, Callable[[EmailMessage], bytes]] = {
    "build_message + render (before)": _old,
    "stdlib, checked once": _checked_once,
    "stdlib, flatten only (no check)": _flatten_only,
    "render_message (fast path)": _fast,
}


def _same_bytes(message: EmailMessage) -> None:
    random.seed(1)
    expected = _checked_once(message)
    random.seed(1)
    quick = render_simple(
        message, message.sender or "", message.message_id or "", DATE, SMTP_POLICY
    )
    if quick != expected:
        raise SystemExit("the fast path does not apply or differs from the standard library")


def per_message_us(client: Callable[[EmailMessage], bytes], messages: list[EmailMessage]) -> float:
    start = time.perf_counter()
    for message in messages:
        client(message)
    return (time.perf_counter() - start) / len(messages) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="distinct messages per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per client (median taken)")
    args = parser.parse_args(argv)
    print(f"machine: {describe()}")
    print(f"command: python {' '.join([sys.argv[0], *(argv or sys.argv[1:])])}")
    print(f"{args.messages} distinct messages per run, median of {args.runs} runs, SMTP policy\n")
    print("| message | path | µs per message | vs before | vs fast path |")
    print("|---|---|---:|---:|---:|")
    for shape, make in SHAPES.items():
        messages = [make(n) for n in range(args.messages)]
        _same_bytes(messages[0])
        samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
        for _ in range(args.runs):  # interleaved, so noise on a shared machine hits all alike
            for name, client in CLIENTS.items():
                samples[name].append(per_message_us(client, messages))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        before, fast = (
            medians["build_message + render (before)"],
            medians["render_message (fast path)"],
        )
        for name, value in medians.items():
            print(
                f"| {shape} | {name} | {value:.1f} | {value / before:.3f}x | {value / fast:.1f}x |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
