"""The pipeline within the providers' limits: a rate limit paces the sends, a daily quota caps
a sender, whatever the number of leads in flight; and a run stopped part-way (``stop``,
``abort``). On the virtual clock, with counting fakes.

Pacing is per provider instance (one sender account, one relay): ``rate_limit`` with
``wait_for_limits = true`` holds each send until the limit allows it, ``daily_quota`` moves the
sends past the cap to the next provider of the chain (docs/pipeline.md, Concurrency and pacing).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import attrs

from aicmo_gateway import Gateway
from aicmo_gateway.config.pipeline import PipelineSettings
from aicmo_gateway.pipeline.leads import read_leads
from aicmo_gateway.pipeline.run import Pipeline
from aicmo_gateway.pipeline.template import Templates
from aicmo_gateway.testing import FakeProvider, fake_registry, profiles, run_virtual
from aicmo_gateway.testing.profiles import CallInfo, Step

LEADS = 10


@attrs.define
class Timed:
    """A healthy profile that notes the (virtual) time of every call."""

    times: list[float] = attrs.field(factory=list)
    inner: Any = attrs.field(factory=profiles.healthy)

    def step(self, call: CallInfo) -> Step:
        self.times.append(call.now)
        return self.inner.step(call)


def run_pipeline(tmp_path: Path, providers: dict[str, dict[str, Any]], **fakes: FakeProvider):
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "email\n" + "".join(f"lead{i}@example.com\n" for i in range(LEADS)), encoding="utf-8"
    )
    config = {
        "capabilities": {"email_sending": {"providers": list(providers), "deadline": "60s"}},
        "providers": {name: {"type": "fake", "name": name, **p} for name, p in providers.items()},
    }

    async def main():
        gateway = Gateway.from_config(config, registry=fake_registry(**fakes), env={})
        try:
            settings = PipelineSettings(concurrency=8)
            pipeline = Pipeline(gateway, settings, Templates("Hi", "Hello"), None)
            return await pipeline.run(read_leads(leads))
        finally:
            await gateway.aclose()

    return run_virtual(main())


def test_a_rate_limit_paces_the_sends_of_leads_in_flight(tmp_path: Path):
    timed = Timed()
    sender = FakeProvider(timed, name="sender")
    report = run_pipeline(
        tmp_path, {"sender": {"rate_limit": "2/s", "wait_for_limits": True}}, sender=sender
    )
    assert report.counts["email"]["ok"] == LEADS
    assert len(timed.times) == LEADS
    start = timed.times[0]
    # a bucket of 2 refilled at 2 per second: the k-th send waits for (k + 1 - 2) / 2 seconds
    for k, at in enumerate(sorted(timed.times)):
        assert at - start >= (k + 1 - 2) / 2 - 1e-3, (k, at - start)
    assert sorted(timed.times)[-1] - start < (LEADS - 2) / 2 + 0.5  # and no slower than that


def test_without_a_limit_the_same_leads_are_sent_at_once(tmp_path: Path):
    timed = Timed()
    report = run_pipeline(tmp_path, {"sender": {}}, sender=FakeProvider(timed, name="sender"))
    assert report.counts["email"]["ok"] == LEADS
    assert max(timed.times) - min(timed.times) < 0.01


def test_a_daily_quota_caps_a_sender_and_the_rest_go_to_the_next_provider(tmp_path: Path):
    capped = FakeProvider(name="capped")
    backup = FakeProvider(name="backup")
    report = run_pipeline(
        tmp_path, {"capped": {"daily_quota": 3}, "backup": {}}, capped=capped, backup=backup
    )
    assert report.counts["email"]["ok"] == LEADS
    assert report.providers["email"] == {"capped": 3, "backup": LEADS - 3}
    sent_by = {
        name: [m.to[0] for op, m in f.received if op == "send"]
        for name, f in (("capped", capped), ("backup", backup))
    }
    assert len(sent_by["capped"]) == 3 and len(sent_by["backup"]) == LEADS - 3
    assert sorted(sent_by["capped"] + sent_by["backup"]) == sorted(
        f"lead{i}@example.com" for i in range(LEADS)
    )


def run_stopped(tmp_path: Path, when: float, how: str, timeout: float | None = None):
    """Ten leads, two at a time, each send taking a second; ``stop``/``abort`` at ``when``."""
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "email\n" + "".join(f"lead{i}@example.com\n" for i in range(LEADS)), encoding="utf-8"
    )
    sender = FakeProvider(profiles.healthy(latency=1.0), name="sender")
    config = {
        "capabilities": {"email_sending": {"providers": ["sender"]}},
        "providers": {"sender": {"type": "fake", "name": "sender"}},
    }
    ended: list[Any] = []

    async def main():
        gateway = Gateway.from_config(config, registry=fake_registry(sender=sender), env={})
        try:
            settings = PipelineSettings(concurrency=2)
            pipeline = Pipeline(
                gateway, settings, Templates("Hi", "Hello"), None, on_lead=ended.append
            )
            loop = asyncio.get_running_loop()
            if how == "stop":
                loop.call_later(when, pipeline.stop, timeout)
            else:
                loop.call_later(when, pipeline.abort)
            return await pipeline.run(read_leads(leads))
        finally:
            await gateway.aclose()

    return run_virtual(main()), sender, ended


def test_stop_lets_the_sends_in_flight_end_and_starts_no_new_lead(tmp_path: Path):
    report, sender, ended = run_stopped(tmp_path, 2.5, "stop")
    sent = [m.to[0] for op, m in sender.received if op == "send"]
    assert report.stop == "graceful" and report.interrupted
    # two leads at a time, a second each: four sent by 2.5 s, the two in flight end too
    assert len(sent) == 6 and report.counts["email"]["ok"] == 6
    assert sorted(lead.email for lead in ended) == sorted(sent)


def test_abort_cuts_the_sends_in_flight_short_and_reports_them_uncertain(tmp_path: Path):
    report, _, ended = run_stopped(tmp_path, 2.5, "abort")
    assert report.stop == "immediate"
    assert report.counts["email"]["ok"] == 4 and report.counts["email"]["uncertain"] == 2
    cut = [lead for lead in ended if lead.stopped]
    assert len(cut) == 2 and {lead.steps["email"].error for lead in cut} == {"CancelledError"}


def test_a_stop_that_takes_longer_than_its_timeout_becomes_an_abort(tmp_path: Path):
    report, _, _ = run_stopped(tmp_path, 2.5, "stop", timeout=0.25)
    assert report.stop == "immediate"
    assert report.counts["email"]["ok"] == 4 and report.counts["email"]["uncertain"] == 2
