"""The core's social-posting conformance suite, against the Mastodon contract fake."""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_mastodon.plugin import mastodon_poster

from aicmo_gateway.testing.conformance import SocialPostingConformance


class TestMastodonPosterConformance(SocialPostingConformance):
    plugin_module = "aicmo_gateway_mastodon.plugin"
    optional_dependencies = ("httpx",)

    @pytest.fixture
    def service(self, mastodon: Any) -> Any:
        return mastodon

    @pytest.fixture
    def secrets(self, mastodon: Any) -> list[str]:
        return [mastodon.token]

    @pytest.fixture
    def provider(self, settings: dict[str, Any]) -> Any:
        return mastodon_poster(**{**settings, "timeout": 1.0})
