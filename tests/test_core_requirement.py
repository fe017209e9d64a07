"""The core-version check of discovery: its quick reading agrees with packaging's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version

from aicmo_gateway.plugins.discovery import _admits_core

releases = st.lists(st.integers(0, 3), min_size=1, max_size=3).map(
    lambda parts: ".".join(map(str, parts))
)
clauses = st.tuples(st.sampled_from(["==", "!=", "<=", ">=", "<", ">"]), releases)
specifiers = st.lists(clauses, max_size=3).map(lambda cs: ",".join(op + v for op, v in cs))


@given(specifiers, releases, st.sampled_from(["", "[http]"]))
def test_a_plain_requirement_admits_the_core_exactly_when_packaging_says_so(spec, core, extra):
    line = f"aicmo-gateway{extra}{spec}"
    verdict = _admits_core(line, core)
    specifier = Requirement(line).specifier
    assert verdict is not None
    assert verdict[0] == specifier.contains(Version(core), prereleases=True)


def test_the_requirement_is_shown_as_packaging_writes_it():
    assert _admits_core("aicmo-gateway[http] >= 0.1.1 , <0.2", "0.3") == (False, "<0.2,>=0.1.1")


def test_what_the_quick_reading_cannot_decide_goes_to_packaging():
    assert _admits_core("aicmo-gateway~=0.1.2", "0.1.5") == (True, "~=0.1.2")
    assert _admits_core("aicmo-gateway==0.1.*", "0.2.0") == (False, "==0.1.*")
    assert _admits_core("aicmo-gateway>=0.1", "0.2.0rc1") == (True, ">=0.1")
    assert _admits_core("aicmo-gateway>=9; extra == 'x'", "0.1.2") is None
    assert _admits_core("aicmo-gateway>=9; python_version >= '3'", "0.1.2") == (False, ">=9")


def test_a_requirement_on_another_distribution_is_not_about_the_core():
    assert _admits_core("aicmo-gateway-smtp>=9", "0.1.2") is None
