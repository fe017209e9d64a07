"""The conformance suites catch what they promise to catch.

A small in-memory CRM and its fake service pass the CRM suite; variants, each breaking one
rule, fail exactly the check for that rule.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

MODULE = """
import attrs
import pytest

from aicmo_gateway.errors import (
    Ambiguous, AuthError, InvalidInput, QuotaExhausted, RateLimited, Unavailable,
)
from aicmo_gateway.ports import CrmRecord
from aicmo_gateway.testing.conformance import CrmSyncConformance

ERRORS = {
    "bad_credentials": AuthError, "rate_limited": RateLimited, "quota_spent": QuotaExhausted,
    "invalid_input": InvalidInput, "service_down": Unavailable, "unknown_outcome": Ambiguous,
}
KEY = "key-Zq8Xw3-secret"


class Service:
    def __init__(self):
        self.pending = []
        self.contacts = {}

    def fail_next(self, kind):
        self.pending.append(kind)

    def answer(self):
        if self.pending:
            raise self.errors[self.pending.pop(0)]("the service failed")


class Crm:
    def __init__(self, service, key=KEY):
        self.service, self._key = service, key

    def __repr__(self):
        return "Crm(key=***)"

    def upsert_contact(self, contact):
        self.service.answer()
        created = contact.email not in self.service.contacts
        self.service.contacts.setdefault(contact.email, str(len(self.service.contacts) + 1))
        return CrmRecord(id=self.service.contacts[contact.email], kind="contact", created=created)

    def upsert_contacts(self, contacts):
        return [self.upsert_contact(c) for c in contacts]

    async def log_engagement(self, engagement):
        self.service.answer()
        self.service.contacts["n"] = str(int(self.service.contacts.get("n", "100")) + 1)
        return CrmRecord(id=self.service.contacts["n"], kind="engagement", created=True)

    async def check(self):
        self.service.answer()


class Base(CrmSyncConformance):
    errors = ERRORS
    crm = Crm

    @pytest.fixture
    def service(self):
        service = Service()
        service.errors = self.errors
        return service

    @pytest.fixture
    def secrets(self):
        return [KEY]

    @pytest.fixture
    def provider(self, service):
        return self.crm(service)


class TestGood(Base):
    pass


class TestWrongErrorClass(Base):
    errors = {**ERRORS, "bad_credentials": Unavailable}


class LeakyCrm(Crm):
    def __repr__(self):
        return f"Crm(key={self._key})"


class TestLeakyRepr(Base):
    crm = LeakyCrm


class LeakyErrors(Service):
    def answer(self):
        if self.pending:
            self.pending.pop(0)
            raise QuotaExhausted(f"quota spent for {KEY}")


class TestLeakyErrors(Base):
    @pytest.fixture
    def service(self):
        return LeakyErrors()


class ReorderingCrm(Crm):
    def upsert_contacts(self, contacts):
        return list(reversed([self.upsert_contact(c) for c in contacts]))


class TestBatchDisagrees(Base):
    crm = ReorderingCrm


class ForgetfulCrm(Crm):
    def upsert_contact(self, contact):
        record = super().upsert_contact(contact)
        return attrs.evolve(record, id=record.id + "-" + str(id(object())), created=True)


class TestUpsertNotIdempotent(Base):
    crm = ForgetfulCrm


class TestLightImport(Base):
    plugin_module = "light_plugin"
    heavy_modules = ("xml.dom.minidom",)


class TestHeavyImport(Base):
    plugin_module = "heavy_plugin"
    heavy_modules = ("xml.dom.minidom",)


class NeedsLibrary(Crm):
    def upsert_contact(self, contact):
        try:
            import xml.dom.minidom
        except ImportError:
            raise ImportError("this CRM needs xml: pip install acme-xml") from None
        return super().upsert_contact(contact)


class BareImport(Crm):
    def upsert_contact(self, contact):
        import xml.dom.minidom

        return super().upsert_contact(contact)


class TestMissingLibraryNamed(Base):
    crm = NeedsLibrary
    optional_dependencies = ("xml.dom.minidom",)


class TestMissingLibraryBare(Base):
    crm = BareImport
    optional_dependencies = ("xml.dom.minidom",)
"""

LIGHT = """
from aicmo_gateway import ProviderType, hookimpl


@hookimpl
def aicmo_crm_syncers():
    return [ProviderType("x", dict)]
"""
HEAVY = "import xml.dom.minidom  # stands for a heavy library\n" + LIGHT


@pytest.fixture
def outcome(pytester: pytest.Pytester) -> dict[str, str]:
    pytester.makepyfile(
        test_crm=textwrap.dedent(MODULE),
        heavy_plugin=textwrap.dedent(HEAVY),
        light_plugin=textwrap.dedent(LIGHT),
    )
    pytester.makeini("[pytest]\npythonpath = .\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-rA")
    outcomes = {}
    for line in result.stdout.lines:
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR") and "::" in rest:
            outcomes[rest.split(" ")[0].split("::", 1)[1]] = word
    return outcomes


def failed(outcome: dict[str, str], cls: str) -> list[str]:
    return sorted(
        t.split("::", 1)[1]
        for t, o in outcome.items()
        if t.startswith(cls + "::") and o != "PASSED"
    )


def test_a_conforming_provider_passes_every_check(outcome: dict[str, str]) -> None:
    assert [t for t in outcome if t.startswith("TestGood::")]
    assert failed(outcome, "TestGood") == []


def test_each_broken_rule_fails_its_check(outcome: dict[str, str]) -> None:
    assert failed(outcome, "TestWrongErrorClass") == [
        "test_check_reports_refused_credentials",
        "test_each_documented_failure_raises_its_error_class[bad_credentials]",
    ]
    assert failed(outcome, "TestLeakyRepr") == ["test_secrets_are_absent_from_the_providers_repr"]
    assert "test_each_documented_failure_raises_its_error_class[quota_spent]" in failed(
        outcome, "TestLeakyErrors"
    )
    assert failed(outcome, "TestBatchDisagrees") == [
        "test_upsert_contacts_agrees_with_upsert_contact"
    ]
    assert "test_an_upsert_creates_then_updates_the_same_record" in failed(
        outcome, "TestUpsertNotIdempotent"
    )
    assert failed(outcome, "TestLightImport") == []
    assert failed(outcome, "TestHeavyImport") == ["test_importing_the_plugin_module_is_cheap"]
    assert failed(outcome, "TestMissingLibraryNamed") == []
    assert failed(outcome, "TestMissingLibraryBare") == [
        "test_a_missing_optional_dependency_says_what_to_install"
    ]
