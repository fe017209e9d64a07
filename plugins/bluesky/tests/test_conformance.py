"""The core's social-posting conformance suite, against the PDS contract fake."""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_bluesky.plugin import bluesky_poster

from aicmo_gateway.testing.conformance import SocialPostingConformance


class TestBlueskyPosterConformance(SocialPostingConformance):
    plugin_module = "aicmo_gateway_bluesky.plugin"
    optional_dependencies = ("httpx",)

    @pytest.fixture
    def service(self, pds: Any) -> Any:
        return pds

    @pytest.fixture
    def secrets(self, pds: Any) -> list[str]:
        return [pds.password]

    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return bluesky_poster(**{**settings, "timeout": 1.0})
