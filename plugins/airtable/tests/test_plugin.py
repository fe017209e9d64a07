"""Discovery and the plugin contract: the type it registers, its traits, cheap import, settings."""

from __future__ import annotations

import subprocess
import sys

import pytest
from aicmo_gateway_airtable.crm import AirtableCrm
from aicmo_gateway_airtable.plugin import airtable_crm

from aicmo_gateway import Idempotency, RateLimit
from aicmo_gateway.plugins.registry import PluginStatus, Registry

TOKEN = "patAbCdEf0123456789.0123456789abcdef"
BASE = "appAbCdEf01234567"
REQUIRED = {"api_key": TOKEN, "base_id": BASE, "table": "Contacts"}


def test_discovery_finds_an_active_airtable_type_for_crm_sync():
    registry = Registry.discover(env={})
    airtable = registry.get("crm_sync", "airtable")
    assert airtable.distribution == "aicmo-gateway-airtable"
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-airtable"]
    assert info.status is PluginStatus.ACTIVE


def test_the_type_declares_airtables_batch_size_and_rate_limit():
    airtable = Registry.discover(env={}).get("crm_sync", "airtable")
    assert airtable.batch_size == 10
    assert airtable.rate_limit == RateLimit(per_second=5, burst=5)
    assert airtable.idempotency is Idempotency.NONE
    assert airtable.has_check is True


def test_importing_the_plugin_and_calling_its_hook_does_not_import_httpx():
    code = (
        "import sys, aicmo_gateway_airtable.plugin as p; p.aicmo_crm_syncers(); "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fields_map_contact_fields_and_attributes_to_columns():
    crm = airtable_crm(
        **REQUIRED, fields={"first_name": "Given name", "tags": "", "lead_score": "Score"}
    )
    assert isinstance(crm, AirtableCrm)
    assert crm.settings.fields["first_name"] == "Given name"
    assert crm.settings.fields["lead_score"] == "Score"
    assert "tags" not in crm.settings.fields
    assert crm.settings.fields["email"] == "Email"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"api_key": ""}, "api_key: is empty"),
        ({"base_id": "base1"}, "base_id: 'base1' is not an Airtable base id"),
        ({"table": " "}, "table: expected a table name"),
        ({"merge_on": []}, "merge_on"),
        ({"merge_on": ["A", "B", "C", "D"]}, "merge_on"),
        ({"merge_on": ["Full name"]}, "merge_on: 'Full name' is not a column"),
        ({"fields": {"email": "E-mail"}}, "merge_on: 'Email' is not a column"),
        ({"fields": {"first-name": "X"}}, r"fields.first-name: not a field"),
        ({"engagement_fields": {"who": "X"}}, "engagement_fields.who: not a field"),
        ({"base_url": "https://api.airtable.com/?x=1"}, "base_url"),
        ({"timeout": -1}, "timeout"),
        ({"typecast": "yes"}, "typecast"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(changes, message):
    with pytest.raises(ValueError, match=message):
        airtable_crm(**{**REQUIRED, **changes})


def test_the_token_never_shows_in_reprs():
    crm = airtable_crm(**REQUIRED)
    for text in (repr(crm), repr(crm.settings), str(crm.settings), repr(crm.http), repr(crm.pacer)):
        assert TOKEN not in text and "0123456789abcdef" not in text
