"""``aicmo-gateway pipeline run`` end to end, through the real command line, on real files.

The embedded defaults write a real Maildir and a real SQLite CRM; a fault-injecting fake
(installed as a plugin distribution) stands for a primary that is down for part of a run. No
test touches DNS: the embedded defaults' verifier checks no MX (``check_mx = false``), and
the other tests configure their verifier.
"""

from __future__ import annotations

import json
import signal
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
from click.testing import CliRunner

from aicmo_gateway.cli import cli
from aicmo_gateway.plugins.registry import Registry
from tests.pipeline_helpers import (
    MAILDIR,
    ROOT,
    SAMPLE,
    Child,
    invoke,
    invoke_jsonl,
    message_ids,
    messages,
    numbered_leads,
    rows,
    write,
)


def has_dns_verifier() -> bool:
    return any(pt.name == "dns" for pt in Registry.discover().provider_types("email_verification"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AICMO_GATEWAY_CONFIG", raising=False)
    return tmp_path


def test_the_sample_runs_on_the_embedded_defaults_and_a_second_run_sends_nothing(workdir):
    emailed = 11 if has_dns_verifier() else 12  # the verifier calls info@ a risky role account
    code, out = invoke(str(SAMPLE))
    assert code == 0, out
    data = workdir / "aicmo-data"
    assert f"their files in {data}/" in out
    assert "line 12: skipped, bad row: no email address" in out
    assert "line 13: skipped, bad row: 5 cells where the header has 6 (missing columns)" in out
    assert f"Messages: {data / 'Maildir'}" in out and f"CRM: {data / 'crm.db'}" in out
    assert len(messages(data / "Maildir")) == emailed
    assert rows(data / "crm.db", "select count(*) from contacts") == [(12,)]
    assert rows(data / "crm.db", "select count(*) from engagements") == [(emailed,)]
    first = message_from_bytes(messages(data / "Maildir")[0].read_bytes())
    assert first["X-Campaign"] == "outreach" and first["Subject"]

    code, out = invoke(str(SAMPLE), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["steps"]["email"]["ok"] == 0
    assert report["steps"]["email"]["earlier"] == emailed
    assert report["steps"]["crm"]["earlier"] == 12
    assert len(messages(data / "Maildir")) == emailed
    assert rows(data / "crm.db", "select count(*) from contacts") == [(12,)]
    assert rows(data / "crm.db", "select count(*) from engagements") == [(emailed,)]


def test_the_json_output_parses_and_has_the_summary(workdir):
    code, out = invoke(str(SAMPLE), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["leads"] == 12 and report["bad_rows"] == 2
    assert [b["line"] for b in report["bad"]] == [12, 13]
    assert report["embedded_defaults"] is True
    assert report["results"]["messages"] == str(workdir / "aicmo-data" / "Maildir")
    email = report["steps"]["email"]
    assert set(email) >= {"ok", "rejected", "deferred", "uncertain", "failed", "skipped"}
    assert email["providers"] == {"maildir": email["ok"]}
    assert report["steps"]["enrich"]["skipped"] == 12  # no enricher in the defaults
    assert report["steps"]["webhook"]["skipped"] == 12


def test_a_dry_run_shows_the_plan_and_writes_nothing(workdir):
    code, out = invoke(str(SAMPLE), "--dry-run")
    assert code == 0, out
    assert "Dry run" in out and "email simulated" in out
    assert list(workdir.iterdir()) == []


def test_a_dry_run_after_a_run_writes_nothing_more(workdir):
    assert invoke(str(SAMPLE))[0] == 0
    before = sorted(str(p) for p in (workdir / "aicmo-data").rglob("*"))
    journal = (workdir / "aicmo-data" / "pipeline.db").read_bytes()
    code, out = invoke(str(SAMPLE), "--dry-run", "--json")
    assert code == 0, out
    assert json.loads(out)["steps"]["email"]["simulated"] >= 11
    assert sorted(str(p) for p in (workdir / "aicmo-data").rglob("*")) == before
    assert (workdir / "aicmo-data" / "pipeline.db").read_bytes() == journal


BAD = (
    b"email,first_name,company\n"
    b"ok1@example.com,Ann,Acme\n"  # 2
    b",Bob,Acme\n"  # 3: no email
    b"caf\xe9@example.com,Cafe,Acme\n"  # 4: not UTF-8
    b"ok2@example.com,Cy\n"  # 5: missing column
    b"email,first_name,company\n"  # 6: the header again
    b"not-an-address,Dee,Acme\n"  # 7: not an address
    b'"multi\nline@example.com",Eve,Acme\n'  # 8-9: a quoted newline, still not an address
    b"ok3@example.com,Fay,Acme,extra\n"  # 10: extra column
    b"ok4@example.com,Gus,Acme\n"  # 11
)


def test_bad_rows_are_reported_with_their_line_and_never_stop_the_run(workdir):
    leads = write(workdir, leads=BAD)
    code, out = invoke(str(leads), "--json")
    assert code == 0, out
    report = json.loads(out)
    bad = {b["line"]: b["reason"] for b in report["bad"]}
    assert sorted(bad) == [3, 4, 5, 6, 7, 8, 10], bad
    assert "no email address" in bad[3]
    assert "not UTF-8" in bad[4]
    assert "missing columns" in bad[5]
    assert "header repeated" in bad[6]
    assert "not a valid email address" in bad[7]
    assert "extra columns" in bad[10]
    assert report["leads"] == 2  # lines 2 and 11
    assert len(messages(workdir / "aicmo-data" / "Maildir")) == 2


def test_a_header_without_an_email_column_names_the_fix(workdir):
    leads = write(workdir, leads="Contact,Name\nann@example.com,Ann\n")
    code, out = invoke(str(leads))
    assert code == 1
    assert "has no email column" in out and "[pipeline.columns]" in out


def test_columns_are_mapped_from_the_config(workdir):
    config = """
[pipeline]
subject = "Hello {{ lead.first_name }} at {{ lead.company }}"
[pipeline.columns]
email = "Courriel"
first_name = "Prénom"
company = "Société"
"""
    leads = write(
        workdir,
        config=config + MAILDIR,
        leads="Courriel,Prénom,Société\nann@example.com,Ann,Acme\n",
    )
    code, out = invoke(str(leads))
    assert code == 0, out
    [path] = messages(workdir / "Maildir")
    message = message_from_bytes(path.read_bytes())
    assert message["Subject"] == "Hello Ann at Acme"
    assert "verify skipped: no email_verification provider configured" in out
    assert "crm skipped: no crm_sync provider configured" in out


def test_every_outreach_email_is_marketing_mail_with_one_click_unsubscribe(workdir, monkeypatch):
    monkeypatch.setenv("UNSUBSCRIBE_SECRET", "a-long-enough-test-secret-0123456789")
    config = """
[email]
unsubscribe_url = "https://example.com/unsubscribe/{token}"
unsubscribe_secret = "${UNSUBSCRIBE_SECRET}"
"""
    leads = write(workdir, config=config + MAILDIR, leads="email\nann@example.com\n")
    code, out = invoke(str(leads))
    assert code == 0, out
    [path] = messages(workdir / "Maildir")
    message = message_from_bytes(path.read_bytes())
    assert message["List-Unsubscribe"].startswith("<https://example.com/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_template_that_names_a_missing_field_says_which(workdir):
    config = '[pipeline]\nsubject = "For {{ lead.job }}"\n' + MAILDIR
    leads = write(workdir, config=config, leads="email,first_name\nann@example.com,Ann\n")
    code, out = invoke(str(leads))
    assert code == 0, out
    assert "email rejected" in out
    assert "lead.job, which this lead does not have" in out and "first_name" in out
    assert messages(workdir / "Maildir") == []


def test_a_suppressed_lead_is_skipped_with_the_reason(workdir):
    assert invoke(str(SAMPLE), "--dry-run")[0] == 0
    config = workdir / "aicmo-data" / "aicmo-gateway.toml"
    assert not config.exists()
    assert invoke(str(SAMPLE), "--json")[0] == 0  # writes the defaults
    leads = write(workdir, leads="email\nnew@example.com\nann@example.com\n")
    result = CliRunner().invoke(
        cli,
        [
            "suppression",
            "add",
            "new@example.com",
            "--reason",
            "unsubscribed",
            "--config",
            str(config),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    code, out = invoke(str(leads))
    assert code == 0, out
    assert "line 2 new@example.com: enrich skipped: suppressed: new@example.com unsubscribed" in out
    sent = [
        message_from_bytes(p.read_bytes())["To"]
        for p in messages(workdir / "aicmo-data" / "Maildir")
    ]
    assert "ann@example.com" in " ".join(sent) and "new@example.com" not in " ".join(sent)


FAKES = """
import attrs

from aicmo_gateway import AuthError, ProviderType, Secret, hookimpl
from aicmo_gateway.ports import Enrichment, SendReceipt, Verification
from aicmo_gateway.testing import profiles
from aicmo_gateway.testing.fake_plugin import fake_provider_type
from aicmo_gateway.testing.fakes import FakeProvider

# the primary answers three sends, is down for the next six, then recovers
PRIMARY = FakeProvider(
    profiles.sequence(*[profiles.healthy()] * 3, *[profiles.fast_failure()] * 6),
    name="primary",
)
HOOK = FakeProvider(name="hook", honours_idempotency=True)


class ByAddress:
    # the verdict is the address's first word: risky.x@example.com is risky
    def verify(self, address):
        word = address.split("@")[0].split(".")[0]
        verdict = word if word in ("undeliverable", "risky", "unknown") else "deliverable"
        return Verification(address=address, verdict=verdict, reason=f"scripted: {word}")


class Finder:
    # an enricher that finds the company and title the file left out
    def enrich(self, lead):
        return Enrichment(found=True, company="Found Co", title="CTO", first_name="Zed")


@hookimpl
def aicmo_lead_enrichers():
    return [ProviderType("finder", lambda: Finder(), "finds a company")]


@attrs.define
class Leaky:
    # a relay that echoes its login: in its refusal, or in the receipt of a message it took
    password: Secret
    refuse: bool = False

    async def send(self, message):
        text = f"login sales / {self.password.reveal()} at the relay"
        if self.refuse:
            raise AuthError(text)
        return SendReceipt(message_id=message.message_id, location=text)


@hookimpl
def aicmo_email_senders():
    return [fake_provider_type({"primary": PRIMARY}), ProviderType("leaky", Leaky, "echoes")]


@hookimpl
def aicmo_webhook_dispatchers():
    return [fake_provider_type({"hook": HOOK}, idempotency="key_header")]


@hookimpl
def aicmo_email_verifiers():
    return [ProviderType("byaddress", lambda: ByAddress(), "verdict from the address")]
"""

FAKE_CONFIG = """
[pipeline]
concurrency = 1
{rule}
[capabilities.email_verification]
providers = ["v"]
[providers.v]
type = "byaddress"
[capabilities.email_sending]
providers = ["primary", "box"]
[providers.primary]
type = "fake"
name = "primary"
[providers.box]
type = "maildir"
path = "Maildir"
[capabilities.webhook_dispatch]
providers = ["hook"]
[providers.hook]
type = "fake"
name = "hook"
"""


@pytest.fixture
def fakes(make_dist, workdir):
    import importlib

    module = make_dist("aicmo-gateway-pipefakes", FAKES)
    return importlib.import_module(module)


def test_a_primary_down_for_part_of_the_run_still_delivers_every_lead_via_the_fallback(
    fakes, workdir
):
    addresses = [f"lead{i}@example.com" for i in range(12)]
    leads = write(
        workdir, config=FAKE_CONFIG.format(rule=""), leads="email\n" + "\n".join(addresses) + "\n"
    )
    code, out = invoke(str(leads), "--json")
    assert code == 0, out
    report = json.loads(out)
    served = report["steps"]["email"]["providers"]
    assert served["primary"] >= 3 and served["box"] >= 6 and sum(served.values()) == 12, served
    assert report["steps"]["email"]["ok"] == 12
    by_primary = [key for op, key in fakes.PRIMARY.performed if op == "send"]
    in_maildir = message_ids(workdir / "Maildir")
    assert len(by_primary) == served["primary"] and len(in_maildir) == served["box"]
    assert len(set(by_primary) | set(in_maildir)) == 12  # each lead once, by one of them
    assert fakes.PRIMARY.duplicates() == []
    # every contacted lead was announced once
    assert report["steps"]["webhook"]["ok"] == 12
    assert sorted(e.data["email"] for _, e in fakes.HOOK.received) == sorted(addresses)


def test_enrichment_fills_what_the_file_left_empty_and_a_send_nobody_took_is_deferred(
    fakes, workdir
):
    (workdir / "aicmo-gateway.toml").write_text(
        """
[gateway]
outbox = "sqlite:///outbox.db"
[pipeline]
subject = "{{ lead.first_name }}, {{ lead.title }} at {{ lead.company }}"
[capabilities.lead_enrichment]
providers = ["f"]
[providers.f]
type = "finder"
[capabilities.crm_sync]
providers = ["crm"]
[providers.crm]
type = "sqlite"
path = "crm.db"
[capabilities.email_sending]
providers = ["broken"]
[providers.broken]
type = "maildir"
path = "/dev/null/unreachable"
""",
        encoding="utf-8",
    )
    leads = write(workdir, leads="email,first_name\nann@example.com,Ann\n")
    code, out = invoke(str(leads), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["steps"]["enrich"]["ok"] == 1
    assert report["steps"]["email"]["deferred"] == 1
    assert report["steps"]["engagement"]["skipped"] == 1  # nothing was sent yet
    # the file's first name wins; the enrichment fills the empty title and company
    assert rows(workdir / "crm.db", "select first_name, title, company from contacts") == [
        ("Ann", "CTO", "Found Co")
    ]
    [(payload,)] = rows(workdir / "outbox.db", "select payload from outbox")
    assert "Ann, CTO at Found Co" in str(payload)
    # the outbox holds the send: a second run does not add it again
    code, out = invoke(str(leads), "--json")
    assert json.loads(out)["steps"]["email"]["earlier"] == 1
    assert rows(workdir / "outbox.db", "select count(*) from outbox") == [(1,)]


def test_jsonl_streams_a_line_per_lead_and_bad_row_then_the_summary(workdir):
    code, records, err = invoke_jsonl(str(SAMPLE))  # nothing but JSON on standard output
    assert code == 0, err
    assert [r["type"] for r in records].count("lead") == 12
    assert [(r["line"], r["reason"][:16]) for r in records if r["type"] == "bad_row"] == [
        (12, "no email address"),
        (13, "5 cells where th"),
    ]
    summary = records[-1]
    assert summary["type"] == "summary" and summary["leads"] == 12 and summary["bad_rows"] == 2
    ada = next(r for r in records if r.get("lead") == "ada@example.com")
    assert ada["line"] == 2 and ada["finished"] is True and ada["suppressed"] is None
    assert list(ada["steps"]) == ["enrich", "verify", "crm", "email", "engagement", "webhook"]
    email = ada["steps"]["email"]
    assert email["status"] == "ok" and email["provider"] == "maildir" and email["error"] is None
    assert Path(email["location"]).is_file()
    assert (
        email["message_id"]
        == message_from_bytes(Path(email["location"]).read_bytes())["Message-ID"]
    )
    assert ada["steps"]["enrich"] == {
        "status": "skipped",
        "provider": None,
        "detail": "no lead_enrichment provider configured",
        "error": None,
    }
    if has_dns_verifier():
        assert ada["steps"]["verify"]["verdict"] == "unknown"

    code, records, err = invoke_jsonl(str(SAMPLE))  # again: each step says how it ended
    again = next(r for r in records if r.get("lead") == "ada@example.com")
    assert again["steps"]["email"] == {
        **email,
        "status": "earlier",
        "earlier": "ok",
        "detail": "ok in an earlier run",
    }


def test_json_and_jsonl_are_exclusive(workdir):
    code, out = invoke(str(SAMPLE), "--json", "--jsonl")
    assert code == 2 and "--json and --jsonl are exclusive" in out


def test_jsonl_shows_the_enrichment_the_deferral_and_the_suppression(fakes, workdir):
    config = """
[gateway]
outbox = "sqlite:///outbox.db"
[email]
suppression = "sqlite:///suppression.db"
[capabilities.lead_enrichment]
providers = ["f"]
[providers.f]
type = "finder"
[capabilities.email_sending]
providers = ["broken"]
[providers.broken]
type = "maildir"
path = "/dev/null/unreachable"
"""
    leads = write(workdir, config=config, leads="email\nann@example.com\ngone@example.com\n")
    result = CliRunner().invoke(
        cli,
        ["suppression", "add", "gone@example.com", "--reason", "complaint"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    code, records, err = invoke_jsonl(str(leads))
    assert code == 0, err
    by_lead = {r["lead"]: r for r in records if r["type"] == "lead"}  # in the order they end
    ann, gone = by_lead["ann@example.com"], by_lead["gone@example.com"]
    assert ann["steps"]["enrich"]["found"] == {
        "first_name": "Zed",
        "title": "CTO",
        "company": "Found Co",
    }
    email = ann["steps"]["email"]
    assert email["status"] == "deferred" and email["outbox_id"]
    assert email["error"] and email["detail"]
    [(outbox_id,)] = rows(workdir / "outbox.db", "select id from outbox")
    assert str(outbox_id) == str(email["outbox_id"])
    assert gone["suppressed"].startswith("gone@example.com complaint")
    assert {s["status"] for s in gone["steps"].values()} == {"skipped"}


def test_jsonl_names_the_error_and_never_shows_a_secret(fakes, workdir, monkeypatch):
    password = "hunter2-correct-horse"
    monkeypatch.setenv("RELAY_PASSWORD", password)
    chain = """
[capabilities.email_sending]
providers = [{providers}]
[providers.refusing]
type = "leaky"
password = "${{RELAY_PASSWORD}}"
refuse = true
[providers.taking]
type = "leaky"
password = "${{RELAY_PASSWORD}}"
"""
    leads = write(
        workdir, config=chain.format(providers='"refusing"'), leads="email\na@example.com\n"
    )
    code, records, err = invoke_jsonl(str(leads))
    assert code == 1  # the send failed
    assert password not in json.dumps(records) + err
    [lead] = (r for r in records if r["type"] == "lead")
    assert lead["steps"]["email"]["status"] == "failed"
    assert lead["steps"]["email"]["error"] == "AuthError"
    assert "********" in lead["steps"]["email"]["detail"]

    write(workdir, config=chain.format(providers='"taking"'))  # the failed send is tried again
    code, records, err = invoke_jsonl(str(leads))
    assert code == 0, err
    assert password not in json.dumps(records) + err
    [lead] = (r for r in records if r["type"] == "lead")
    assert lead["steps"]["email"]["location"] == "login sales / ******** at the relay"


def test_the_verdict_rule_for_unknown_and_risky_leads(fakes, workdir):
    leads = write(
        workdir,
        config=FAKE_CONFIG.format(rule=""),
        leads="email\nundeliverable.a@example.com\nrisky.b@example.com\n"
        "unknown.c@example.com\nd@example.com\n",
    )
    config = workdir / "aicmo-gateway.toml"
    code, out = invoke(str(leads))
    assert code == 0, out
    assert "line 2 undeliverable.a@example.com: " in out
    assert "email skipped: verdict undeliverable: scripted: undeliverable" in out
    assert "email skipped: verdict risky ([pipeline] send_risky = false)" in out
    sent = {op_message.to[0] for op, op_message in fakes.PRIMARY.received if op == "send"}
    assert sent == {"unknown.c@example.com", "d@example.com"}

    config.write_text(
        FAKE_CONFIG.format(rule='send_unknown = false\nsend_risky = true\ncampaign = "two"'),
        encoding="utf-8",
    )
    fakes.PRIMARY.reset()
    code, out = invoke(str(leads))
    assert code == 0, out
    assert "email skipped: verdict unknown ([pipeline] send_unknown = false)" in out
    sent = {m.to[0] for op, m in fakes.PRIMARY.received if op == "send"}
    assert sent == {"risky.b@example.com", "d@example.com"}


def test_an_interrupted_write_to_a_provider_that_ignores_keys_is_uncertain_not_repeated(
    fakes, workdir
):
    from aicmo_gateway.pipeline.journal import Journal
    from aicmo_gateway.pipeline.records import idempotency_key

    leads = write(
        workdir,
        config=FAKE_CONFIG.format(rule='journal = "journal.db"'),
        leads="email\nann@example.com\n",
    )
    journal = Journal(workdir / "journal.db")  # as a run killed while sending left it
    journal.started(
        "outreach",
        "ann@example.com",
        "email",
        idempotency_key("outreach", "ann@example.com", "email"),
        2,
    )
    journal.close()
    code, out = invoke(str(leads), "--json")
    assert code == 1, out  # an uncertain step is a problem to look at
    report = json.loads(out)
    assert report["steps"]["email"]["uncertain"] == 1
    assert [op for op, _ in fakes.PRIMARY.received] == []  # not sent again blindly
    assert messages(workdir / "Maildir") == []


def test_the_pipeline_extra_missing_names_the_install_command(workdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "jinja2", None)
    code, out = invoke(str(SAMPLE))
    assert code == 1
    from aicmo_gateway.plugins.known import how_to_install

    assert "needs Jinja2 and rich" in out
    assert str(how_to_install("aicmo-gateway", "pipeline")) in " ".join(out.split())


def test_a_bad_pipeline_table_is_a_config_problem(workdir):
    write(workdir, config='[pipeline]\nconcurency = 3\nsend_risky = "no"\n')
    code, out = invoke(str(SAMPLE))
    assert code == 1
    assert "pipeline.concurency: is not a pipeline setting" in out
    assert "did you mean 'concurrency'" in out
    assert "write send_risky = false without quotes" in out


def test_a_campaign_or_event_name_that_breaks_its_rule_names_the_rule(workdir):
    config = '[pipeline]\ncampaign = "spring outreach!"\nwebhook_event = "lead contacted"\n'
    write(workdir, config=config)
    code, out = invoke(str(SAMPLE))
    text = " ".join(out.split())
    assert code == 1
    assert "pipeline.campaign: 'spring outreach!' is not a campaign name" in text
    assert 'at most 64), e.g. campaign = "spring-outreach"' in text
    assert "pipeline.webhook_event: 'lead contacted' is not an event type" in text
    assert 'use a dotted name such as webhook_event = "lead.contacted"' in text


# -- interrupted mid-way ----------------------------------------------------------


def test_ctrl_c_stops_the_run_with_its_summary_and_the_next_run_finishes_it(workdir):
    total = 300
    write(workdir, leads=numbered_leads(total))
    child = Child(workdir)
    child.wait_for_leads(40)  # well under way
    child.process.send_signal(signal.SIGINT)
    assert child.end() == 130, child.text()
    out = child.text("stdout")
    assert "Interrupted (after the steps in flight): " in out
    assert "Run the same command again to pick up where it stopped" in out
    assert "Ctrl-C: stopping. No new lead starts" in child.text()
    maildir = workdir / "aicmo-data" / "Maildir"
    assert len(messages(maildir)) < total, "the run finished before it was interrupted"
    again = Child(workdir, "-q")
    assert again.end() == 0, again.text("stdout")[-3000:]
    ids = message_ids(maildir)
    assert len(ids) == len(set(ids)) == total


def test_a_run_killed_mid_way_and_restarted_sends_every_lead_exactly_once(workdir):
    total = 300
    write(workdir, leads=numbered_leads(total))
    maildir = workdir / "aicmo-data" / "Maildir"
    child = Child(workdir)
    child.wait_for_leads(40)  # well under way
    child.process.send_signal(signal.SIGKILL)
    assert child.end() == -signal.SIGKILL
    assert len(messages(maildir)) < total, "the run finished before it was killed"

    again = Child(workdir, "--jsonl")
    assert again.end() == 0, again.text("stdout")[-3000:]
    _, report = again.records()
    email = report["steps"]["email"]
    assert email["earlier"] + email["ok"] == total
    assert email["failed"] == email["uncertain"] == 0
    ids = message_ids(maildir)
    assert len(ids) == total and len(set(ids)) == total
    recipients = sorted(message_from_bytes(p.read_bytes())["To"] for p in messages(maildir))
    assert len(set(recipients)) == total
    crm = workdir / "aicmo-data" / "crm.db"
    assert rows(crm, "select count(*), count(distinct email) from contacts") == [(total, total)]
    assert rows(crm, "select count(*), count(distinct contact_email) from engagements") == [
        (total, total)
    ]


# -- the README and the examples -----------------------------------------------------


def test_the_readmes_first_command_installs_and_runs_the_pipeline_on_the_sample():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert "pip install '.[pipeline]' ./plugins/verify" in first
    assert first.strip().endswith("aicmo-gateway pipeline run examples/leads.csv")
    assert "aicmo-data/Maildir" in readme and "aicmo-data/crm.db" in readme


def test_the_example_configuration_runs_the_sample(workdir):
    import shutil

    examples = shutil.copytree(ROOT / "examples", workdir / "examples")
    code, out = invoke(str(examples / "leads.csv"), "--config", str(examples / "outreach.toml"))
    if not has_dns_verifier():  # the core's own test run installs no plugin
        assert code == 1 and "pip install ./plugins/verify" in out, out
        return
    assert code == 0, out
    sent = messages(examples / "outreach-data" / "Maildir")
    assert len(sent) == 11
    message = message_from_bytes(sent[0].read_bytes())
    assert message["X-Campaign"] == "spring-outreach"
    assert message.is_multipart()  # the text and the HTML template


def test_data_dir_and_concurrency_options(workdir):
    code, out = invoke(str(SAMPLE), "--data-dir", "elsewhere", "--concurrency", "1", "-q")
    assert code == 0, out
    assert "line 2 " not in out  # --quiet: no line per lead, the bad rows still
    assert "line 12: skipped, bad row" in out
    assert (workdir / "elsewhere" / "aicmo-gateway.toml").is_file()
    assert len(messages(workdir / "elsewhere" / "Maildir")) >= 11
    assert not (workdir / "aicmo-data").exists()
