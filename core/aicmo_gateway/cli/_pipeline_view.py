"""What ``pipeline run`` shows as it goes, and how Ctrl-C and SIGTERM reach the pipeline.

A rich progress bar on a terminal, a plain line per lead otherwise, JSON Lines with
``--jsonl``, nothing with ``--json``; notices (the stop) on standard error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from aicmo_gateway.pipeline.leads import BadRow
    from aicmo_gateway.pipeline.report import LeadReport
    from aicmo_gateway.pipeline.run import Pipeline

__all__ = ["View", "count_lines", "on_signals"]


def on_signals(runner: Pipeline, view: View, stop_timeout: float) -> Callable[[], None]:
    """Route SIGINT and SIGTERM to the pipeline; the function that restores them.

    The first stops it gracefully (no new lead; the leads in flight end their current step,
    within ``stop_timeout`` seconds), the second at once. Only the main thread receives
    signals: elsewhere (the demo runs the command in a thread) nothing is installed.
    """
    from aicmo_gateway.cli._signals import on_stop_signals

    def received(name: str) -> None:
        if runner.stopping:
            view.notice(f"{name} again: stopping at once; a write in flight is reported uncertain.")
            runner.abort()
            return
        view.notice(
            f"{name}: stopping. No new lead starts; the leads in flight end their current step "
            f"(at most {stop_timeout:g}s). Press Ctrl-C again to stop at once."
        )
        runner.stop(stop_timeout)

    return on_stop_signals(received)


class View:
    """A rich progress bar on a terminal, a plain line per lead otherwise, a JSON line per lead
    with ``--jsonl``, nothing with ``--json`` (``as_json`` is set for both)."""

    def __init__(self, *, as_json: bool, as_jsonl: bool, quiet: bool, total: int | None) -> None:
        self.as_json = as_json
        self.as_jsonl = as_jsonl
        self.quiet = quiet
        self.total = total
        self.progress: Any = None
        self.task: Any = None

    def start(self) -> None:
        if self.as_json or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task("leads", total=self.total)
        self.progress.start()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()

    def notice(self, text: str) -> None:
        """A line for the person at the terminal, on standard error."""
        if self.progress is not None:
            self.progress.console.print(text, style="bold", markup=False, highlight=False)
        else:
            click.echo(text, err=True)

    def lead(self, lead: LeadReport) -> None:
        if self.as_jsonl:
            click.echo(json.dumps(lead.to_json()))
        elif self.progress is not None:
            self.progress.advance(self.task)
            if not self.quiet:
                from rich.text import Text

                self.progress.console.print(Text(lead.line_text()))
        elif not (self.as_json or self.quiet):
            click.echo(lead.line_text())

    def bad(self, row: BadRow) -> None:
        if self.as_jsonl:
            record = {"type": "bad_row", "line": row.line, "reason": row.reason}
            click.echo(json.dumps(record))
            return
        text = f"line {row.line}: skipped, bad row: {row.reason}"
        if self.progress is not None:
            self.progress.advance(self.task)
            from rich.text import Text

            self.progress.console.print(Text(text, style="yellow"))
        elif not self.as_json:
            click.echo(text)


def count_lines(path: Path, machine: bool) -> int | None:
    """The number of data lines (for the progress bar's total), read in blocks."""
    if machine or not sys.stderr.isatty():
        return None
    try:
        with open(path, "rb") as handle:
            lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
    return max(lines - 1, 0)
