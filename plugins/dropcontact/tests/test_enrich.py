"""Lead enrichment against the contract fake: the record sent, the fields mapped, sources.

Follows developer.dropcontact.com: en/reference/input-record (``first_name``,
``last_name``, ``email``, ``company``, ``website``, ``linkedin``; a record needs a company
identifier, an email or a LinkedIn profile), en/reference/enriched-record (``email[]``
with qualifications, ``job``, ``phone``, ``mobile_phone``, ``nb_employees``,
``naf5_des``, ``siren``; the website reduced to its domain with ``www.``) and
en/credits (a credit per verified email found).
"""

from __future__ import annotations

from aicmo_gateway.ports import Lead

SOURCE = "dropcontact:enrich/all"


def found_record(sent: dict) -> dict:
    return {
        "civility": "Mr",
        "first_name": "Denis",
        "last_name": "Cohen",
        "full_name": "Denis Cohen",
        "email": [
            {"email": "denis.cohen@dropcontact.io", "qualification": "nominative@pro"},
            {"email": "contact@dropcontact.io", "qualification": "generic@pro"},
        ],
        "phone": "+33 1 23 45 67 89",
        "mobile_phone": "+33 6 12 34 56 78",
        "linkedin": "https://www.linkedin.com/in/denis-cohen",
        "job": "CEO",
        "job_level": "Executive",
        "company": "Dropcontact",
        "website": "www.dropcontact.io",
        "nb_employees": "11-50",
        "naf5_code": "6201Z",
        "naf5_des": "Programmation informatique",
        "siren": "819387282",
        "country": "France",
    }


async def test_a_lead_is_sent_as_an_input_record_and_mapped_with_its_sources(fake, make_provider):
    fake.answer = found_record
    lead = Lead(first_name="Denis", last_name="Cohen", domain="https://www.dropcontact.io/")
    result = await make_provider().enrich(lead)
    assert fake.submissions[0]["data"] == [
        {"first_name": "Denis", "last_name": "Cohen", "website": "dropcontact.io"}
    ]
    assert result.found
    assert result.email == "denis.cohen@dropcontact.io"  # the nominative one, not the generic
    assert (result.title, result.company, result.domain) == ("CEO", "Dropcontact", "dropcontact.io")
    assert result.phone == "+33 6 12 34 56 78"
    assert (result.industry, result.company_size) == ("Programmation informatique", "11-50")
    assert result.linkedin_url == "https://www.linkedin.com/in/denis-cohen"
    assert set(result.attributes["sources"]) == {
        "email",
        "first_name",
        "last_name",
        "title",
        "company",
        "domain",
        "linkedin_url",
        "phone",
        "location",
        "industry",
        "company_size",
    }
    assert set(result.attributes["sources"].values()) == {SOURCE}
    assert result.attributes["qualification"] == "nominative@pro"
    assert result.attributes["siren"] == "819387282"


async def test_a_record_that_only_echoes_the_lead_is_an_empty_answer(fake, make_provider):
    fake.answer = lambda sent: {
        "first_name": "Ada",
        "email": [{"email": "ada@example.com", "qualification": "nominative@pro"}],
    }
    result = await make_provider().enrich(Lead(email="ada@example.com", first_name="ada"))
    assert result.found is False
    assert "found nothing" in result.attributes["reason"]
    assert "sources" not in result.attributes


async def test_an_invalid_address_is_not_reported_as_the_leads_email(fake, make_provider):
    fake.answer = lambda sent: {
        **sent,
        "email": [{"email": "x@acme.example", "qualification": "invalid@pro"}],
        "job": "CTO",
    }
    result = await make_provider().enrich(Lead(first_name="X", last_name="Y", company="Acme"))
    assert result.found and result.title == "CTO"
    assert result.email is None
    assert result.attributes["emails"] == [["x@acme.example", "invalid@pro"]]


async def test_enrich_many_keeps_the_order_in_one_submission(fake, make_provider):
    leads = [Lead(email=f"p{i}@example.com") for i in range(30)]
    fake.answer = lambda sent: {
        **found_record(sent),
        "email": [{"email": sent["email"], "qualification": "nominative@pro"}],
        "job": sent["email"],
    }
    results = await make_provider().enrich_many(leads)
    assert len(fake.submissions) == 1
    assert [r.title for r in results] == [lead.email for lead in leads]
