"""``pipeline run``: the lead pipeline on a CSV file (docs/pipeline.md).

The pipeline, Jinja2 and rich are imported when the command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aicmo_gateway.cli._options import config_option
from aicmo_gateway.cli._output import emit_json, table
from aicmo_gateway.cli._pipeline_view import View, count_lines, on_signals

if TYPE_CHECKING:
    from aicmo_gateway.pipeline.report import RunReport
    from aicmo_gateway.pipeline.run import Pipeline
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
    "--jsonl",
    "as_jsonl",
    is_flag=True,
    help="Stream JSON Lines: one object per lead and bad row as it ends, then the summary.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="No line per lead, only bad rows and the summary."
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(0, 3600),
    default=30.0,
    show_default=True,
    help="After a first Ctrl-C or SIGTERM: seconds the leads in flight have to end their "
    "current step before the run stops at once.",
)
def run(
    leads: Path,
    config_path: Path | None,
    data_dir: Path | None,
    concurrency: int | None,
    dry_run: bool,
    as_json: bool,
    as_jsonl: bool,
    quiet: bool,
    stop_timeout: float,
) -> None:
    """Run every lead of the CSV file LEADS through the pipeline.

    Each lead is enriched, verified, upserted in the CRM, emailed from the template, logged
    on its contact and announced with a webhook; a step with no provider configured is
    skipped. Running again on the same file performs nothing twice and resumes an
    interrupted run. A first Ctrl-C (or SIGTERM) takes no new lead and lets the leads in
    flight end their current step; a second one stops at once. Exits 1 when a step failed
    or is uncertain, 130 when interrupted.
    """
    if as_json and as_jsonl:
        raise click.UsageError("--json and --jsonl are exclusive: choose one")
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
    machine = as_json or as_jsonl
    if not machine:
        _intro(setup, dry_run)
    view = View(as_json=machine, as_jsonl=as_jsonl, quiet=quiet, total=count_lines(leads, machine))
    runner = _runner(setup, registry, templates, dry_run, concurrency, view)
    report = _execute(runner, rows, first, view, stop_timeout)
    if as_json:
        emit_json(_json(report, setup, leads))
    elif as_jsonl:
        click.echo(json.dumps({"type": "summary", **_json(report, setup, leads)}))
    else:
        _summary(report, setup, dry_run)
    if report.interrupted:
        raise SystemExit(130)
    if report.problems:
        raise SystemExit(1)


def _runner(
    setup: Setup,
    registry: Any,
    templates: Any,
    dry_run: bool,
    concurrency: int | None,
    view: View,
) -> Pipeline:
    """The gateway, the journal and the pipeline over them (closed by :func:`_execute`)."""
    import asyncio

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
    return Pipeline(
        gateway,
        config.pipeline,
        templates,
        journal,
        dry_run=dry_run,
        concurrency=concurrency,
        on_lead=view.lead,
        on_bad=view.bad,
    )


def _execute(runner: Pipeline, rows: Any, first: Any, view: View, stop_timeout: float) -> RunReport:
    """Run the pipeline with Ctrl-C and SIGTERM stopping it in two stages; close it all."""
    import asyncio
    import itertools

    source = itertools.chain([first] if first is not None else [], rows)

    async def go() -> RunReport:
        undo = on_signals(runner, view, stop_timeout)
        try:
            return await runner.run(source)
        finally:
            undo()
            await runner.gateway.aclose()

    view.start()
    try:
        report = asyncio.run(go())
    except KeyboardInterrupt:  # no handler could be installed (not the main thread)
        report = runner.report
        report.interrupted = True
        report.stop = "immediate"
    finally:
        view.stop()
        if runner.journal is not None:
            runner.journal.close()
    return report


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
        _interrupted(report)
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


def _interrupted(report: RunReport) -> None:
    how = "at once" if report.stop == "immediate" else "after the steps in flight"
    click.echo(
        f"Interrupted ({how}): {report.leads - report.stopped_leads} leads done, "
        f"{report.stopped_leads} stopped part-way; the others were not started."
    )
    if report.stop == "immediate" and any(c["uncertain"] for c in report.counts.values()):
        click.echo(
            "A write cut short is uncertain: the next run repeats it with the same idempotency "
            "key only where every provider honours keys; otherwise check it by hand."
        )
    click.echo("Run the same command again to pick up where it stopped: nothing is done twice.")


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
