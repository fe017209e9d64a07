"""What a pipeline run reports: per step, how each lead's call ended and who served it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

__all__ = ["COLUMNS", "STEPS", "LeadReport", "RunReport", "StepResult"]

#: the steps, in the order each lead goes through them
STEPS = ("enrich", "verify", "crm", "email", "engagement", "webhook")
#: the summary's columns: the outcome statuses, ``skipped``, and ``earlier`` (done by a
#: previous run of the same campaign: not performed again)
COLUMNS = ("ok", "rejected", "deferred", "uncertain", "failed", "simulated", "skipped", "earlier")
#: how many bad rows the report lists one by one (all are counted)
MAX_LISTED = 1000
#: what a step's ``data`` may tell a machine reader, by step (nothing else of it is shown)
_SHOWN = {
    "verify": ("verdict", "reason"),
    "email": ("message_id", "location", "outbox_id"),
    "crm": ("outbox_id",),
    "engagement": ("outbox_id",),
    "webhook": ("outbox_id",),
}


@attrs.frozen
class StepResult:
    """How one step of one lead ended."""

    status: str  # one of COLUMNS
    provider: str | None = None
    detail: str | None = None
    #: what later steps need (the enrichment, the verdict, the Message-ID)
    data: Any = None
    #: the error class that ended it (``ProviderUnavailable``, ``InvalidInput``, ...)
    error: str | None = None
    #: for ``earlier``: how the step ended in that earlier run (``ok``, ``deferred``, ...)
    earlier: str | None = None

    def to_json(self, step: str) -> dict[str, Any]:
        """The step for a machine: status, provider, detail, error, and what it found."""
        out: dict[str, Any] = {
            "status": self.status,
            "provider": self.provider,
            "detail": self.detail,
            "error": self.error,
        }
        if self.earlier is not None:
            out["earlier"] = self.earlier
        data = self.data if isinstance(self.data, dict) else {}
        if step == "enrich" and data:
            out["found"] = data  # the fields the enricher found
        for key in _SHOWN.get(step, ()):
            if data.get(key) not in (None, ""):
                out[key] = data[key]
        return out


@attrs.define
class LeadReport:
    line: int
    email: str
    steps: dict[str, StepResult] = attrs.field(factory=dict)
    #: set when the run stopped this lead part-way: the steps not in ``steps`` did not run
    stopped: bool = False
    #: the suppression list's entry, when the lead is on it
    suppressed: str | None = None

    def line_text(self) -> str:
        """``line 3 ada@example.com: enrich skipped, verify ok (dns), ...``."""
        parts = []
        for step, result in self.steps.items():
            served = f" ({result.provider})" if result.provider else ""
            status = result.status
            if step == "verify" and isinstance(result.data, dict) and result.data.get("verdict"):
                status = f"{status}: {result.data['verdict']}"
            why = f": {result.detail}" if result.detail and result.status != "ok" else ""
            parts.append(f"{step} {status}{served}{why}")
        if self.stopped:
            rest = [s for s in STEPS if s not in self.steps]
            parts.append(f"stopped before {rest[0]}" if rest else "stopped")
        return f"line {self.line} {self.email}: " + "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """One line of ``--jsonl``: the lead, its row, and every step it went through."""
        return {
            "type": "lead",
            "line": self.line,
            "lead": self.email,
            "finished": not self.stopped,
            "suppressed": self.suppressed,
            "steps": {step: result.to_json(step) for step, result in self.steps.items()},
        }


@attrs.define
class RunReport:
    dry_run: bool = False
    leads: int = 0
    bad_rows: int = 0
    bad: list[dict[str, Any]] = attrs.field(factory=list)
    counts: dict[str, Counter[str]] = attrs.field(factory=lambda: {s: Counter() for s in STEPS})
    providers: dict[str, Counter[str]] = attrs.field(factory=lambda: {s: Counter() for s in STEPS})
    elapsed: float = 0.0
    interrupted: bool = False
    #: how the run was stopped: ``None``, ``"graceful"`` (a first Ctrl-C or SIGTERM: the
    #: leads in flight finished their step) or ``"immediate"`` (a second one, or the timeout)
    stop: str | None = None
    #: leads the stop left part-way (counted in ``leads``; the next run goes on from there)
    stopped_leads: int = 0

    def add_bad(self, line: int, reason: str) -> None:
        self.bad_rows += 1
        if len(self.bad) < MAX_LISTED:
            self.bad.append({"line": line, "reason": reason})

    def add(self, lead: LeadReport) -> None:
        self.leads += 1
        self.stopped_leads += lead.stopped
        for step, result in lead.steps.items():
            self.counts[step][result.status] += 1
            if result.provider and result.status in ("ok", "simulated", "deferred", "uncertain"):
                self.providers[step][result.provider] += 1

    @property
    def problems(self) -> int:
        """Steps that ended failed or uncertain (the run exits 1 when there are any)."""
        return sum(c["failed"] + c["uncertain"] for c in self.counts.values())

    def rows(self) -> list[list[Any]]:
        """The summary table's rows: step, one count per column, the providers that served."""
        return [
            [
                step,
                *(self.counts[step][c] for c in COLUMNS),
                ", ".join(f"{p} ({n})" for p, n in self.providers[step].most_common()) or "-",
            ]
            for step in STEPS
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "stop": self.stop,
            "stopped_leads": self.stopped_leads,
            "leads": self.leads,
            "bad_rows": self.bad_rows,
            "bad": self.bad,
            "elapsed_seconds": round(self.elapsed, 3),
            "steps": {
                step: {
                    **{c: self.counts[step][c] for c in COLUMNS},
                    "providers": dict(self.providers[step]),
                }
                for step in STEPS
            },
        }
