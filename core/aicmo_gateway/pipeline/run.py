"""The lead pipeline: enrich, verify, upsert, email, log, notify; each step through its chain.

Leads flow from the CSV reader through a bounded queue to ``concurrency`` workers, so a file of
any length runs in bounded memory and the providers' own rate limits pace the calls. Each
write step is journaled (:mod:`aicmo_gateway.pipeline.journal`) before and after its call,
with an idempotency key derived from the lead and the step, so a second run performs nothing
twice and an interrupted one resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aicmo_gateway.engine.ledger import MemoryLedger
from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.outcome import Outcome, Status
from aicmo_gateway.pipeline import records as rec
from aicmo_gateway.pipeline.leads import BadRow, LeadRow
from aicmo_gateway.pipeline.report import LeadReport, RunReport, StepResult
from aicmo_gateway.pipeline.template import TemplateProblem, Templates

if TYPE_CHECKING:
    from aicmo_gateway.config.pipeline import PipelineSettings
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.pipeline.journal import Journal

__all__ = ["CAPABILITY", "Pipeline"]

CAPABILITY = {
    "enrich": "lead_enrichment",
    "verify": "email_verification",
    "crm": "crm_sync",
    "email": "email_sending",
    "engagement": "crm_sync",
    "webhook": "webhook_dispatch",
}
#: a step that ended so is never performed again for the same campaign and lead
_SETTLED = frozenset({"ok", "deferred", "uncertain"})
#: writes that may be repeated after an interruption whatever the provider: an upsert by
#: email leaves one contact however often it runs, and the crm_sync port's contract is that
#: an engagement with an ``external_id`` (the pipeline's carries the Message-ID) is logged once
_REPEATABLE = frozenset({"crm", "engagement"})
Call = Callable[[str], Awaitable[Outcome]]


def _skipped(detail: str) -> StepResult:
    return StepResult("skipped", detail=detail)


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
        #: leads in flight, by identity: a lead listed twice runs once at a time
        self._busy: dict[str, list[Any]] = {}
        # the journal remembers every lead's writes, across runs; the chains' in-memory
        # idempotency ledger need only cover the leads in flight, so that a long file does
        # not fill it (it keeps up to 100,000 writes by default: about 80 MB of receipts)
        for chain in gateway.chains.values():
            ledger = getattr(chain, "ledger", None)
            if isinstance(ledger, MemoryLedger):
                ledger.max_entries = min(ledger.max_entries, max(1000, 50 * self.concurrency))

    async def run(self, rows: Iterable[LeadRow | BadRow]) -> RunReport:
        started = time.monotonic()
        queue: asyncio.Queue[LeadRow | None] = asyncio.Queue(maxsize=self.concurrency * 2)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.concurrency)]
        try:
            for row in rows:
                if isinstance(row, BadRow):
                    self.report.add_bad(row.line, row.reason)
                    if self.on_bad is not None:
                        self.on_bad(row)
                    continue
                await queue.put(row)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            self.report.elapsed = time.monotonic() - started
        return self.report

    async def _worker(self, queue: asyncio.Queue[LeadRow | None]) -> None:
        while (row := await queue.get()) is not None:
            lead = rec.identity(row.email)
            held = self._busy.setdefault(lead, [asyncio.Lock(), 0])
            held[1] += 1
            try:
                async with held[0]:
                    result = await self.lead(row)
            finally:
                held[1] -= 1
                if not held[1]:
                    del self._busy[lead]
            self.report.add(result)
            if self.on_lead is not None:
                self.on_lead(result)

    # -- one lead ----------------------------------------------------------------------

    async def lead(self, row: LeadRow) -> LeadReport:
        lead = rec.identity(row.email)
        report = LeadReport(row.line, lead)
        steps = report.steps
        gateway = self.gateway
        if gateway.suppression.configured:
            entry = await gateway.suppression.check(lead, category="marketing")
            if entry is not None:
                for step in CAPABILITY:
                    steps[step] = _skipped(f"suppressed: {entry.describe()}")
                return report
        steps["enrich"] = await self._step(
            lead, "enrich", row.line, lambda _: gateway.lead_enrichment.enrich(row.lead), _found
        )
        fields = rec.merged_fields(row.fields, steps["enrich"].data)
        fields["email"] = row.email
        steps["verify"] = await self._step(
            lead,
            "verify",
            row.line,
            lambda _: gateway.email_verification.verify(row.email),
            _verdict,
        )
        verdict = (steps["verify"].data or {}).get("verdict")
        try:
            contact = rec.contact_of(fields, self.settings.campaign, verdict)
        except InvalidInput as exc:
            steps["crm"] = StepResult("rejected", detail=str(exc))
        else:
            steps["crm"] = await self._step(
                lead,
                "crm",
                row.line,
                lambda key: gateway.crm_sync.upsert_contact(
                    contact, idempotency_key=key, dry_run=self._dry()
                ),
                write=True,
            )
        steps["email"] = await self._email(lead, row.line, fields, verdict, steps["verify"])
        sent = steps["email"]
        if not (sent.status in ("ok", "simulated") or (sent.status == "earlier" and sent.data)):
            why = _skipped("the email was not sent")
            steps["engagement"] = steps["webhook"] = why
            return report
        message_id = (sent.data or {}).get("message_id") or rec.message_id_of(self.settings, lead)
        subject = (sent.data or {}).get("subject")
        engagement = rec.engagement_of(lead, self.settings.campaign, subject, message_id)
        steps["engagement"] = await self._step(
            lead,
            "engagement",
            row.line,
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

        steps["webhook"] = await self._step(lead, "webhook", row.line, dispatch, write=True)
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
        self, lead: str, line: int, fields: dict[str, Any], verdict: str | None, verify: StepResult
    ) -> StepResult:
        blocked = self._allowed(verify, verdict)
        if blocked is not None:
            return _skipped(blocked)
        context = {
            "lead": fields,
            "sender": _sender(self.settings.sender),
            "verification": {"verdict": verdict or "unknown", **(verify.data or {})},
            "campaign": self.settings.campaign,
        }
        try:
            subject, text, html = self.templates.render(context)
            message = rec.message_of(self.settings, lead, fields, subject, text, html)
        except (TemplateProblem, InvalidInput) as exc:
            return StepResult("rejected", detail=str(exc))

        def data(outcome: Outcome) -> dict[str, Any]:
            value = outcome.value
            return {
                "message_id": getattr(value, "message_id", None) or message.message_id,
                "location": getattr(value, "location", None),
                "subject": subject,
            }

        return await self._step(
            lead,
            "email",
            line,
            lambda key: self.gateway.email_sending.send(
                message, idempotency_key=key, dry_run=self._dry()
            ),
            data,
            write=True,
        )

    # -- one step ----------------------------------------------------------------------

    async def _step(
        self,
        lead: str,
        step: str,
        line: int,
        call: Call,
        data_of: Callable[[Outcome], Any] | None = None,
        *,
        write: bool = False,
    ) -> StepResult:
        capability = CAPABILITY[step]
        client = getattr(self.gateway, capability)
        if not client.configured:
            return _skipped(f"no {capability} provider configured")
        campaign = self.settings.campaign
        key = rec.idempotency_key(campaign, lead, step)
        journal = self.journal
        if journal is not None:
            entry = journal.get(campaign, lead, step)
            if entry is not None and entry.done:
                return StepResult(
                    "earlier", entry.provider, f"{entry.status} in an earlier run", entry.data
                )
            if entry is not None and entry.state == "started" and write:
                key = entry.idempotency_key
                safe = step in _REPEATABLE or (
                    client.chain is not None and client.chain.honours_idempotency
                )
                if not safe:
                    detail = (
                        "an earlier run stopped during this step and not every "
                        f"{capability} provider honours idempotency keys: check with the "
                        "provider whether it happened (it is not sent again)"
                    )
                    journal.finish(
                        campaign,
                        lead,
                        step,
                        done=True,
                        status="uncertain",
                        provider=None,
                        detail=detail,
                    )
                    return StepResult("uncertain", detail=detail)
            journal.started(campaign, lead, step, key, line)
        outcome = await call(key)
        status = outcome.status.value
        data = data_of(outcome) if data_of is not None and outcome.status is Status.OK else None
        result = StepResult(status, outcome.provider, outcome.reason, data)
        if journal is not None:
            journal.finish(
                campaign,
                lead,
                step,
                done=status in _SETTLED,
                status=status,
                provider=outcome.provider,
                detail=outcome.reason,
                data=data,
            )
        return result


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
