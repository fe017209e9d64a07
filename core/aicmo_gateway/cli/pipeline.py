"""``pipeline run``: the lead pipeline on a CSV file (docs/pipeline.md).

The pipeline, Jinja2 and rich are imported when the command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aicmo_gateway.cli._options import config_option
from aicmo_gateway.cli._output import emit_json, table

if TYPE_CHECKING:
    from aicmo_gateway.pipeline.leads import BadRow
    from aicmo_gateway.pipeline.report import LeadReport, RunReport
    from aicmo_gateway.pipeline.setup import Setup

__all__ = ["pipeline"]


@click.group()
def pipeline() -> None:
    """The lead pipeline: enrich, verify, record, email and notify, lead by lead."""


@pipeline.command("run")
@click.argument("leads", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With no config: where the embedded defaults keep their files (default ./aicmo-data).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Leads in flight at once (default: [pipeline] concurrency, 8).",
)
@click.option("--dry-run", is_flag=True, help="Show the plan; perform and write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document at the end.")
@click.option(
    "--quiet", "-q", is_flag=True, help="No line per lead, only bad rows and the summary."
)
def run(
    leads: Path,
    config_path: Path | None,
    data_dir: Path | None,
    concurrency: int | None,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run every lead of the CSV file LEADS through the pipeline.

    Each lead is enriched, verified, upserted in the CRM, emailed from the template, logged
    on its contact and announced with a webhook; a step with no provider configured is
    skipped. Running again on the same file performs nothing twice and resumes an
    interrupted run. Exits 1 when a step failed or is uncertain, 130 when interrupted.
    """
    from aicmo_gateway.pipeline.template import MISSING_EXTRA, require

    try:
        require()
    except ModuleNotFoundError as exc:
        raise click.ClickException(str(exc) or MISSING_EXTRA) from None
    from aicmo_gateway.errors import ConfigError
    from aicmo_gateway.pipeline.leads import HeaderError, read_leads
    from aicmo_gateway.pipeline.setup import resolve
    from aicmo_gateway.pipeline.template import TemplateProblem, Templates
    from aicmo_gateway.plugins.registry import Registry

    registry = Registry.discover()
    try:
        setup = resolve(config_path, data_dir, registry, dry_run=dry_run)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    settings = setup.config.pipeline
    try:
        templates = Templates.load(settings.subject, settings.template, settings.html_template)
    except TemplateProblem as exc:
        raise click.ClickException(f"{setup.path}: [pipeline] {exc}") from None
    rows = read_leads(leads, settings.columns)
    try:
        first = next(rows, None)
    except HeaderError as exc:
        raise click.ClickException(f"{leads}: {exc}") from None
    except OSError as exc:
        raise click.ClickException(f"{leads}: cannot be read: {exc.strerror or exc}") from None
    if not as_json:
        _intro(setup, dry_run)
    view = _View(as_json=as_json, quiet=quiet, total=_count_lines(leads))
    report = _execute(setup, registry, templates, rows, first, dry_run, concurrency, view)
    if as_json:
        emit_json(_json(report, setup, leads))
    else:
        _summary(report, setup, dry_run)
    if report.interrupted:
        raise SystemExit(130)
    if report.problems:
        raise SystemExit(1)


def _execute(
    setup: Setup,
    registry: Any,
    templates: Any,
    rows: Any,
    first: Any,
    dry_run: bool,
    concurrency: int | None,
    view: _View,
) -> RunReport:
    import asyncio
    import itertools

    import attrs

    from aicmo_gateway.errors import ConfigError
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.pipeline.journal import Journal
    from aicmo_gateway.pipeline.run import Pipeline
    from aicmo_gateway.pipeline.setup import make_folders, suppression_file

    config = setup.config
    if dry_run:
        email = config.email
        target = suppression_file(config)
        if target is not None and not target.exists():
            # opening it would create it, and nothing is suppressed in an empty list
            email = attrs.evolve(email, suppression=None)
        config = attrs.evolve(config, dry_run=True, outbox=None, state_dir=None, email=email)
    else:
        make_folders(setup)
    try:
        gateway = Gateway.from_loaded(config, registry)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    journal = None
    if not dry_run:
        import sqlite3

        try:
            journal = Journal(setup.journal)
        except (OSError, sqlite3.Error) as exc:
            asyncio.run(gateway.aclose())
            raise click.ClickException(
                f"cannot open the run journal {setup.journal}: {exc}; choose a writable "
                'place with [pipeline] journal = "..."'
            ) from None
    runner = Pipeline(
        gateway,
        config.pipeline,
        templates,
        journal,
        dry_run=dry_run,
        concurrency=concurrency,
        on_lead=view.lead,
        on_bad=view.bad,
    )
    source = itertools.chain([first] if first is not None else [], rows)

    async def go() -> RunReport:
        try:
            return await runner.run(source)
        finally:
            await gateway.aclose()

    view.start()
    try:
        report = asyncio.run(go())
    except KeyboardInterrupt:
        report = runner.report
        report.interrupted = True
    finally:
        view.stop()
        if journal is not None:
            journal.close()
    return report


class _View:
    """A rich progress bar on a terminal, a plain line per lead otherwise, nothing for JSON."""

    def __init__(self, *, as_json: bool, quiet: bool, total: int | None) -> None:
        self.as_json = as_json
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

    def lead(self, lead: LeadReport) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)
            if not self.quiet:
                from rich.text import Text

                self.progress.console.print(Text(lead.line_text()))
        elif not (self.as_json or self.quiet):
            click.echo(lead.line_text())

    def bad(self, row: BadRow) -> None:
        text = f"line {row.line}: skipped, bad row: {row.reason}"
        if self.progress is not None:
            self.progress.advance(self.task)
            from rich.text import Text

            self.progress.console.print(Text(text, style="yellow"))
        elif not self.as_json:
            click.echo(text)


def _count_lines(path: Path) -> int | None:
    """The number of data lines (for the progress bar's total), read in blocks."""
    if not sys.stderr.isatty():
        return None
    try:
        with open(path, "rb") as handle:
            lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
    return max(lines - 1, 0)


def _intro(setup: Setup, dry_run: bool) -> None:
    if setup.embedded:
        where = setup.path.parent
        verb = "would keep" if dry_run and not setup.path.exists() else "keep"
        click.echo(
            f"No configuration given: the embedded defaults, which {verb} their files in "
            f"{where}/ (config: {setup.path})"
        )
    else:
        click.echo(f"Configuration: {setup.path}")
    if dry_run:
        click.echo("Dry run: every call is planned, none performed; nothing is written.")


def _summary(report: RunReport, setup: Setup, dry_run: bool) -> None:
    from aicmo_gateway.pipeline.report import COLUMNS
    from aicmo_gateway.pipeline.setup import result_paths

    click.echo("")
    click.echo(table(["step", *COLUMNS, "served by"], report.rows()))
    click.echo(
        f"\n{report.leads} leads, {report.bad_rows} bad rows skipped, "
        f"in {report.elapsed:.1f}s"
        + (f" ({report.leads / report.elapsed:.0f} leads/s)" if report.elapsed > 0 else "")
    )
    if report.interrupted:
        click.echo("Interrupted: run the same command again to pick up where it stopped.")
    if dry_run:
        return
    for what, path in result_paths(setup.config):
        hint = (
            f"ls {path}/new"
            if what == "messages"
            else f"sqlite3 {path} 'select email, first_name, company from contacts'"
        )
        click.echo(f"{what[0].upper() + what[1:]}: {path}   (try: {hint})")
    click.echo(f"Journal: {setup.journal}")


def _json(report: RunReport, setup: Setup, leads: Path) -> dict[str, Any]:
    from aicmo_gateway.pipeline.setup import result_paths

    data = report.to_json()
    data.update(
        leads_file=str(leads),
        config=str(setup.path),
        embedded_defaults=setup.embedded,
        journal=None if report.dry_run else str(setup.journal),
        results={what: str(path) for what, path in result_paths(setup.config)},
    )
    return data
