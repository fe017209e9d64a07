"""The kit for adapter authors and for testing applications.

- conformance suites every provider of a port should pass, one per port
  (:mod:`aicmo_gateway.testing.conformance`; docs/plugins/testing.md);
- an opt-in pytest plugin with the fixtures plugin tests need
  (``-p aicmo_gateway.testing.pytest_plugin``; :mod:`aicmo_gateway.testing.pytest_plugin`);
- helpers for fakes of HTTP services on a local server (:mod:`aicmo_gateway.testing.httpfake`);
- a scriptable, fault-injecting :class:`FakeProvider` for every port, whose
  behaviour follows a profile over time (:mod:`aicmo_gateway.testing.profiles`);
- virtual time for asyncio, so scenarios spanning hours run in milliseconds
  (:mod:`aicmo_gateway.testing.virtual_time`).

Subclass a suite in a plugin's tests and provide its fixtures::

    from aicmo_gateway.testing import EmailSenderConformance

    class TestAcmeConformance(EmailSenderConformance):
        @pytest.fixture
        def provider(self, server): ...
        @pytest.fixture
        def service(self, server): ...  # with fail_next(kind)
        @pytest.fixture
        def secrets(self): ...
        @pytest.fixture
        def delivered(self, server): ...
"""

from typing import Any

from aicmo_gateway.testing import profiles
from aicmo_gateway.testing.fake_plugin import (
    FAKE_TYPE,
    fake_config,
    fake_plugin,
    fake_provider_type,
    fake_registry,
)
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.virtual_time import (
    VirtualClock,
    VirtualEventLoop,
    current_clock,
    loop_time,
    run_virtual,
    virtual_loop,
    wall_now,
)

__all__ = [
    "FAKE_TYPE",
    "CrmSyncConformance",
    "EmailSenderConformance",
    "EmailVerificationConformance",
    "FakeProvider",
    "LeadEnrichmentConformance",
    "ReplyFetcherConformance",
    "SocialPostingConformance",
    "VirtualClock",
    "VirtualEventLoop",
    "WebhookDispatchConformance",
    "current_clock",
    "fake_config",
    "fake_plugin",
    "fake_provider_type",
    "fake_registry",
    "loop_time",
    "profiles",
    "run_virtual",
    "virtual_loop",
    "wall_now",
]


def __getattr__(name: str) -> Any:
    # the conformance suites need pytest; import them only when asked for
    if name.endswith("Conformance"):
        from aicmo_gateway.testing import conformance

        return getattr(conformance, name)
    raise AttributeError(name)
