"""The kit for adapter authors: conformance suites every provider of a port should pass.

Subclass a suite in a plugin's tests and provide its fixtures::

    from aicmo_gateway.testing.conformance import EmailSenderConformance

    class TestAcmeConformance(EmailSenderConformance):
        @pytest.fixture
        def provider(self, server): ...
        @pytest.fixture
        def delivered(self, server): ...
"""

from aicmo_gateway.testing.conformance import EmailSenderConformance, ReplyFetcherConformance

__all__ = ["EmailSenderConformance", "ReplyFetcherConformance"]
