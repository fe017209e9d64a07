"""The pipeline's parts on their own: the CSV reader, the templates, keys and the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicmo_gateway.config.pipeline import PipelineSettings
from aicmo_gateway.pipeline import records
from aicmo_gateway.pipeline.journal import Journal
from aicmo_gateway.pipeline.leads import BadRow, HeaderError, LeadRow, field_name, read_leads
from aicmo_gateway.pipeline.template import TemplateProblem, Templates


def test_headers_are_matched_to_fields_whatever_their_spelling():
    assert field_name(" E-mail ") == "email"
    assert field_name("First Name") == "first_name"
    assert field_name("Organisation") == "company"
    assert field_name("favourite colour") == "favourite_colour"


def test_the_reader_streams_rows_with_their_first_line(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(
        '\ufeffEmail,Notes\nann@example.com,"two\nlines"\n\n# a comment\nbob@example.com,x\n',
        encoding="utf-8",
    )
    rows = read_leads(path)
    first = next(rows)
    assert isinstance(first, LeadRow) and first.line == 2 and first.fields["notes"] == "two\nlines"
    second = next(rows)
    assert isinstance(second, LeadRow) and second.line == 6 and second.email == "bob@example.com"
    assert list(rows) == []


def test_an_unreadable_csv_row_is_a_bad_row_and_the_next_one_is_read(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"email\nann@example.com\x00\nbob@example.com\n")
    found = list(read_leads(path))
    assert isinstance(found[0], BadRow) and found[0].line == 2
    assert isinstance(found[1], LeadRow) and found[1].email == "bob@example.com"


def test_a_header_without_an_email_column_is_refused_before_any_row(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("name\nAnn\n", encoding="utf-8")
    with pytest.raises(
        HeaderError, match=r"no email column.*\[pipeline.columns\] email = \"name\""
    ):
        next(read_leads(path))


def test_a_mapped_column_is_read_as_the_field(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("Courriel,Société\nann@example.com,Acme\n", encoding="utf-8")
    [row] = read_leads(path, {"email": "Courriel", "company": "Société"})
    assert isinstance(row, LeadRow) and row.lead.company == "Acme"


def context(**lead: str) -> dict[str, object]:
    return {
        "lead": {"email": "ann@example.com", **lead},
        "sender": {"name": "Ada", "email": "ada@example.com"},
        "verification": {"verdict": "deliverable"},
        "campaign": "c",
    }


def test_templates_render_the_leads_fields_and_escape_html():
    templates = Templates(
        "Hi {{ lead.first_name }}", "Body {{ lead.company }}", "<p>{{ lead.company }}</p>"
    )
    subject, text, html = templates.render(context(first_name="Ann", company="A&B <x>"))
    assert subject == "Hi Ann"
    assert text == "Body A&B <x>"
    assert html == "<p>A&amp;B &lt;x&gt;</p>"


def test_a_missing_field_is_an_error_naming_it_and_default_still_works():
    with pytest.raises(TemplateProblem, match=r"lead\.title, which this lead does not have"):
        Templates("x", "{{ lead.title }}").render(context())
    with pytest.raises(TemplateProblem, match=r"'leed', which is not defined"):
        Templates("x", "{{ leed.title }}").render(context())
    assert Templates("x", "{{ lead.title | default('-') }}").render(context())[1] == "-"


def test_the_sandbox_refuses_python_internals():
    for source in ("{{ lead.__class__.__mro__ }}", "{{ ''.__class__.__subclasses__() }}"):
        with pytest.raises(TemplateProblem):
            Templates("x", source).render(context())


def test_a_template_syntax_error_names_the_line():
    with pytest.raises(TemplateProblem, match="line 2"):
        Templates("x", "ok\n{% if %}")


def test_keys_and_message_ids_depend_on_the_lead_and_campaign_only():
    settings = PipelineSettings(sender="Ada <ada@example.org>")
    key = records.idempotency_key("c", "ann@example.com", "email")
    assert key == records.idempotency_key("c", "ann@example.com", "email")
    assert key != records.idempotency_key("d", "ann@example.com", "email")
    assert key != records.idempotency_key("c", "ann@example.com", "webhook")
    message_id = records.message_id_of(settings, "ann@example.com")
    assert message_id.endswith("@example.org>")
    assert records.identity(" Ann@Example.COM ") == "ann@example.com"


def test_the_journal_remembers_started_and_done_steps(tmp_path: Path):
    journal = Journal(tmp_path / "j" / "pipeline.db")
    journal.started("c", "ann@example.com", "email", "k1", 2)
    assert journal.get("c", "ann@example.com", "email").state == "started"
    journal.finish(
        "c",
        "ann@example.com",
        "email",
        done=True,
        status="ok",
        provider="box",
        detail=None,
        data={"message_id": "<m@x>"},
    )
    journal.close()
    again = Journal(tmp_path / "j" / "pipeline.db")
    entry = again.get("c", "ann@example.com", "email")
    assert entry is not None and entry.done and entry.data == {"message_id": "<m@x>"}
    assert entry.idempotency_key == "k1" and entry.provider == "box"
    assert again.get("c", "bob@example.com", "email") is None
    again.close()
