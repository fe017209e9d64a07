"""One step of one lead: the journal before and after its call, and what a stop leaves.

A step's call goes through its capability's chain with an idempotency key derived from the
campaign, the lead and the step. The journal says whether an earlier run did it already, or
was interrupted during it; a write found interrupted is repeated only where that cannot
duplicate it. A step cancelled by :meth:`Pipeline.abort` is reported ``uncertain`` when it is a
write (it may have happened) and journaled so that the next run follows the same rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aicmo_gateway.outcome import Outcome, Status
from aicmo_gateway.pipeline import records as rec
from aicmo_gateway.pipeline.report import LeadReport, StepResult
from aicmo_gateway.scrub import Scrubber

if TYPE_CHECKING:
    from aicmo_gateway.gateway import Gateway
    from aicmo_gateway.pipeline.journal import Journal

__all__ = ["CAPABILITY", "Halted", "Steps", "skipped"]

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


class Halted(Exception):
    """The run is stopping: the lead ends before its next step."""


def skipped(detail: str) -> StepResult:
    return StepResult("skipped", detail=detail)


class Steps:
    """Runs the steps of a campaign's leads through the gateway, journaled."""

    def __init__(self, gateway: Gateway, campaign: str, journal: Journal | None) -> None:
        self.gateway = gateway
        self.campaign = campaign
        self.journal = journal
        #: set by ``Pipeline.stop``: no step starts any more
        self.halted = False
        secrets = {
            s for chain in gateway.chains.values() for slot in chain.slots for s in slot.secrets
        }
        #: every configured secret, masked in the texts a report shows (the engine already
        #: scrubs each provider's own from its errors: this covers all of them everywhere)
        self.scrub = Scrubber(sorted(secrets)) if secrets else None

    def _safe(self, step: str, client: Any) -> bool:
        """Whether a write cut short may be repeated with its key without a duplicate."""
        return step in _REPEATABLE or (
            client.chain is not None and client.chain.honours_idempotency
        )

    async def run(
        self,
        report: LeadReport,
        step: str,
        call: Call,
        data_of: Callable[[Outcome], Any] | None = None,
        *,
        write: bool = False,
    ) -> StepResult:
        """Perform ``step`` for the lead of ``report`` (unless done before); record it there.

        Raises :class:`Halted` when the run is stopping, before anything is done (a step with
        no provider configured is skipped all the same: there is nothing to do).
        """
        capability = CAPABILITY[step]
        client = getattr(self.gateway, capability)
        if not client.configured:
            result = report.steps[step] = skipped(f"no {capability} provider configured")
            return result
        if self.halted:
            raise Halted
        result = report.steps[step] = await self._run(report, step, client, call, data_of, write)
        return result

    async def _run(
        self,
        report: LeadReport,
        step: str,
        client: Any,
        call: Call,
        data_of: Callable[[Outcome], Any] | None,
        write: bool,
    ) -> StepResult:
        capability = CAPABILITY[step]
        campaign, lead = self.campaign, report.email
        key = rec.idempotency_key(campaign, lead, step)
        journal = self.journal
        if journal is not None:
            entry = journal.get(campaign, lead, step)
            if entry is not None and entry.done:
                return StepResult(
                    "earlier",
                    entry.provider,
                    f"{entry.status} in an earlier run",
                    entry.data,
                    earlier=entry.status,
                )
            if entry is not None and entry.state == "started" and write:
                key = entry.idempotency_key
                if not self._safe(step, client):
                    detail = (
                        "an earlier run stopped during this step and not every "
                        f"{capability} provider honours idempotency keys: check with the "
                        "provider whether it happened (it is not sent again)"
                    )
                    self._uncertain(lead, step, detail)
                    return StepResult("uncertain", detail=detail)
            journal.started(campaign, lead, step, key, report.line)
        try:
            outcome = await call(key)
        except asyncio.CancelledError:
            if write:
                report.steps[step] = self._cut_short(lead, step, capability, client)
            raise
        return self._ended(lead, step, outcome, data_of)

    def _ended(
        self, lead: str, step: str, outcome: Outcome, data_of: Callable[[Outcome], Any] | None
    ) -> StepResult:
        status = outcome.status.value
        data = data_of(outcome) if data_of is not None and outcome.status is Status.OK else None
        if outcome.outbox_id is not None:
            data = {**(data or {}), "outbox_id": outcome.outbox_id}
        detail = outcome.reason
        if self.scrub is not None:  # what a provider answered may echo a secret (a receipt)
            detail = _scrubbed(detail, self.scrub)
            data = _scrubbed(data, self.scrub)
        error = None
        if outcome.status is not Status.OK:
            error = next((a.error for a in reversed(outcome.attempts) if a.error), None)
        if self.journal is not None:
            self.journal.finish(
                self.campaign,
                lead,
                step,
                done=status in _SETTLED,
                status=status,
                provider=outcome.provider,
                detail=detail,
                data=data,
            )
        return StepResult(status, outcome.provider, detail, data, error=error)

    def _cut_short(self, lead: str, step: str, capability: str, client: Any) -> StepResult:
        """A write cancelled in flight: it may have happened. The journal keeps it
        ``started`` where the next run may repeat it with its key, else ``uncertain``."""
        if self.journal is None:  # no journal (a dry run, a library caller): nothing to keep
            return StepResult(
                "uncertain", detail="the run was stopped during this step", error="CancelledError"
            )
        if self._safe(step, client):
            detail = (
                "the run was stopped during this step: the next run repeats it with the same "
                "idempotency key, which every provider of the chain honours, so it happens once"
            )
        else:
            detail = (
                "the run was stopped during this step and not every "
                f"{capability} provider honours idempotency keys: check with the provider "
                "whether it happened (it is not sent again)"
            )
            self._uncertain(lead, step, detail)
        return StepResult("uncertain", detail=detail, error="CancelledError")

    def _uncertain(self, lead: str, step: str, detail: str) -> None:
        if self.journal is not None:
            self.journal.finish(
                self.campaign,
                lead,
                step,
                done=True,
                status="uncertain",
                provider=None,
                detail=detail,
            )


def _scrubbed(value: Any, scrub: Scrubber) -> Any:
    """``value`` with every text in it (in dicts and lists too) scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v, scrub) for v in value]
    return value
