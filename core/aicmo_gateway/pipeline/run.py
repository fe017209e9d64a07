"""The lead pipeline: enrich, verify, upsert, email, log, notify; each step through its chain.

Leads flow from the CSV reader through a bounded queue to ``concurrency`` workers, so a file of
any length runs in bounded memory and the providers' own rate limits pace the calls. Each
write step is journaled (:mod:`aicmo_gateway.pipeline.journal`) before and after its call,
with an idempotency key derived from the lead and the step, so a second run performs nothing
twice and an interrupted one resumes.

:meth:`Pipeline.stop` (the CLI's first Ctrl-C or SIGTERM) takes no new lead and lets each lead
in flight end its current step; :meth:`Pipeline.abort` (a second Ctrl-C, or the stop's
timeout) cancels the steps in flight, and a write cut short is reported ``uncertain``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aicmo_gateway.engine.ledger import MemoryLedger
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.outcome import Outcome
from aicmo_gateway.pipeline import records as rec
from aicmo_gateway.pipeline.leads import BadRow, LeadRow
from aicmo_gateway.pipeline.report import LeadReport, RunReport, StepResult
from aicmo_gateway.pipeline.steps import CAPABILITY, Halted, Steps, skipped
from aicmo_gateway.pipeline.template import TemplateProblem, Templates

if TYPE_CHECKING:
    from aicmo_gateway.config.pipeline import PipelineSettings
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.pipeline.journal import Journal

__all__ = ["CAPABILITY", "Pipeline"]


class Pipeline:
    """One run over a stream of rows; ``on_lead`` and ``on_bad`` see each one as it ends."""

    def __init__(
        self,
        gateway: Gateway,
        settings: PipelineSettings,
        templates: Templates,
        journal: Journal | None,
        *,
        dry_run: bool = False,
        concurrency: int | None = None,
        on_lead: Callable[[LeadReport], None] | None = None,
        on_bad: Callable[[BadRow], None] | None = None,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.templates = templates
        self.journal = None if dry_run else journal
        self.dry_run = dry_run
        self.concurrency = concurrency or settings.concurrency
        self.on_lead = on_lead
        self.on_bad = on_bad
        self.report = RunReport(dry_run=dry_run)
        self.steps = Steps(gateway, settings.campaign, self.journal)
        #: leads in flight, by identity: a lead listed twice runs once at a time
        self._busy: dict[str, list[Any]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._queue: asyncio.Queue[LeadRow | None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        # the journal remembers every lead's writes, across runs; the chains' in-memory
        # idempotency ledger need only cover the leads in flight, so that a long file does
        # not fill it (it keeps up to 100,000 writes by default: about 80 MB of receipts)
        for chain in gateway.chains.values():
            ledger = getattr(chain, "ledger", None)
            if isinstance(ledger, MemoryLedger):
                ledger.max_entries = min(ledger.max_entries, max(1000, 50 * self.concurrency))

    # -- stopping ------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self.steps.halted

    def stop(self, timeout: float | None = None) -> None:
        """Take no new lead; each lead in flight ends after its current step.

        Called again, or ``timeout`` seconds later, it is :meth:`abort`. Call it from the
        loop's thread (a signal handler installed with ``loop.add_signal_handler`` is).
        """
        if self.steps.halted:
            self.abort()
            return
        self.steps.halted = True
        self.report.interrupted = True
        self.report.stop = "graceful"
        if timeout is not None:
            self._timer = asyncio.get_running_loop().call_later(timeout, self.abort)

    def abort(self) -> None:
        """Cancel every step in flight now: a write cut short is reported ``uncertain``
        (and journaled so the next run repeats it only where that cannot duplicate it)."""
        if self.report.stop == "immediate":
            return
        self.steps.halted = True
        self.report.interrupted = True
        self.report.stop = "immediate"
        for worker in self._workers:
            worker.cancel()
        queue = self._queue
        while queue is not None and not queue.empty():  # frees a reader blocked on a full queue
            queue.get_nowait()

    # -- the run -------------------------------------------------------------------------

    async def run(self, rows: Iterable[LeadRow | BadRow]) -> RunReport:
        started = time.monotonic()
        queue: asyncio.Queue[LeadRow | None] = asyncio.Queue(maxsize=self.concurrency * 2)
        self._queue = queue
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.concurrency)]
        self._workers = workers
        try:
            for row in rows:
                if self.steps.halted:
                    break
                if isinstance(row, BadRow):
                    self.report.add_bad(row.line, row.reason)
                    if self.on_bad is not None:
                        self.on_bad(row)
                    continue
                await queue.put(row)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
        finally:
            for worker in workers:
                worker.cancel()
            if self._timer is not None:
                self._timer.cancel()
            self.report.elapsed = time.monotonic() - started
        return self.report

    async def _worker(self, queue: asyncio.Queue[LeadRow | None]) -> None:
        while (row := await queue.get()) is not None:
            if self.steps.halted:
                continue  # not started: the next run takes it
            lead = rec.identity(row.email)
            report = LeadReport(row.line, lead)
            held = self._busy.setdefault(lead, [asyncio.Lock(), 0])
            held[1] += 1
            try:
                async with held[0]:
                    await self.lead(row, report)
            except Halted:
                report.stopped = True
            except asyncio.CancelledError:  # abort(): this worker ends with its lead
                report.stopped = True
                self._ended(report)
                return
            finally:
                held[1] -= 1
                if not held[1]:
                    del self._busy[lead]
            self._ended(report)

    def _ended(self, report: LeadReport) -> None:
        if report.stopped and not report.steps:
            return  # stopped before its first step: not started, the next run takes it
        self.report.add(report)
        if self.on_lead is not None:
            self.on_lead(report)

    # -- one lead ----------------------------------------------------------------------

    async def lead(self, row: LeadRow, report: LeadReport | None = None) -> LeadReport:
        """Run one lead; ``report`` (a new one if ``None``) holds each step as it ends."""
        lead = rec.identity(row.email)
        report = report if report is not None else LeadReport(row.line, lead)
        steps = report.steps
        gateway = self.gateway
        run = self.steps.run
        if self.steps.halted:
            raise Halted
        if gateway.suppression.configured:
            entry = await gateway.suppression.check(lead, category="marketing")
            if entry is not None:
                report.suppressed = entry.describe()
                for step in CAPABILITY:
                    steps[step] = skipped(f"suppressed: {report.suppressed}")
                return report
        await run(report, "enrich", lambda _: gateway.lead_enrichment.enrich(row.lead), _found)
        fields = rec.merged_fields(row.fields, steps["enrich"].data)
        fields["email"] = row.email
        await run(
            report, "verify", lambda _: gateway.email_verification.verify(row.email), _verdict
        )
        verdict = (steps["verify"].data or {}).get("verdict")
        try:
            contact = rec.contact_of(fields, self.settings.campaign, verdict)
        except InvalidInput as exc:
            steps["crm"] = StepResult("rejected", detail=str(exc), error="InvalidInput")
        else:
            await run(
                report,
                "crm",
                lambda key: gateway.crm_sync.upsert_contact(
                    contact, idempotency_key=key, dry_run=self._dry()
                ),
                write=True,
            )
        await self._email(report, fields, verdict, steps["verify"])
        sent = steps["email"]
        if not (sent.status in ("ok", "simulated") or sent.earlier == "ok"):
            why = skipped("the email was not sent")
            steps["engagement"] = steps["webhook"] = why
            return report
        message_id = (sent.data or {}).get("message_id") or rec.message_id_of(self.settings, lead)
        subject = (sent.data or {}).get("subject")
        engagement = rec.engagement_of(lead, self.settings.campaign, subject, message_id)
        await run(
            report,
            "engagement",
            lambda key: gateway.crm_sync.log_engagement(
                engagement, idempotency_key=key, dry_run=self._dry()
            ),
            write=True,
        )

        def dispatch(key: str) -> Awaitable[Outcome]:
            event = rec.event_of(self.settings, key, fields, message_id, verdict)
            return gateway.webhook_dispatch.dispatch(
                event, idempotency_key=key, dry_run=self._dry()
            )

        await run(report, "webhook", dispatch, write=True)
        return report

    def _dry(self) -> bool | None:
        return True if self.dry_run else None

    def _allowed(self, verify: StepResult, verdict: str | None) -> str | None:
        """Why the rule keeps this lead from being emailed, or ``None``."""
        if verdict == "undeliverable":
            reason = (verify.data or {}).get("reason") or ""
            return f"verdict undeliverable{': ' + reason if reason else ''}"
        if verdict == "risky" and not self.settings.send_risky:
            return "verdict risky ([pipeline] send_risky = false)"
        if verdict in (None, "unknown") and not self.settings.send_unknown:
            what = "unknown" if verdict else f"unknown (verification {verify.status})"
            return f"verdict {what} ([pipeline] send_unknown = false)"
        return None

    async def _email(
        self, report: LeadReport, fields: dict[str, Any], verdict: str | None, verify: StepResult
    ) -> None:
        blocked = self._allowed(verify, verdict)
        if blocked is not None:
            report.steps["email"] = skipped(blocked)
            return
        context = {
            "lead": fields,
            "sender": _sender(self.settings.sender),
            "verification": {"verdict": verdict or "unknown", **(verify.data or {})},
            "campaign": self.settings.campaign,
        }
        try:
            subject, text, html = self.templates.render(context)
            message = rec.message_of(self.settings, report.email, fields, subject, text, html)
        except (TemplateProblem, InvalidInput) as exc:
            error = type(exc).__name__
            report.steps["email"] = StepResult("rejected", detail=str(exc), error=error)
            return

        def data(outcome: Outcome) -> dict[str, Any]:
            value = outcome.value
            return {
                "message_id": getattr(value, "message_id", None) or message.message_id,
                "location": getattr(value, "location", None),
                "subject": subject,
            }

        await self.steps.run(
            report,
            "email",
            lambda key: self.gateway.email_sending.send(
                message, idempotency_key=key, dry_run=self._dry()
            ),
            data,
            write=True,
        )


def _found(outcome: Outcome) -> dict[str, Any] | None:
    value = outcome.value
    if value is None or not getattr(value, "found", False):
        return None
    names = ("first_name", "last_name", "title", "company", "domain", "linkedin_url", "phone")
    return {name: getattr(value, name) for name in names if getattr(value, name, None)}


def _verdict(outcome: Outcome) -> dict[str, Any]:
    verdict = getattr(outcome.value, "verdict", None)
    if verdict is None:
        return {}
    return {"verdict": str(verdict), "reason": getattr(outcome.value, "reason", "")}


def _sender(sender: str | None) -> dict[str, str]:
    from email.utils import parseaddr

    name, address = parseaddr(sender or "")
    return {"name": name, "email": address}
