"""The ``social_posting`` conformance suite."""

from __future__ import annotations

import base64
from typing import Any, ClassVar

import pytest

from aicmo_gateway.errors import InvalidInput
from aicmo_gateway.ports import Media, PostReceipt, SocialPost
from aicmo_gateway.testing.conformance._base import PortConformance, Run

__all__ = ["SocialPostingConformance"]

#: a 1x1 transparent PNG
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class SocialPostingConformance(PortConformance):
    """Every ``social_posting`` provider.

    Fixtures to provide: ``provider``, ``service`` and ``secrets`` (see
    :class:`~aicmo_gateway.testing.conformance.PortConformance`).
    """

    port: ClassVar[str] = "social_posting"
    #: longer than any network allows; a provider must refuse it as invalid input
    too_long = 100_000

    def sample(self, operation: str) -> Any:
        return SocialPost(text="Conformance: hello from the suite")

    def test_a_post_is_published_with_an_id(self, provider: Any, run: Run) -> None:
        receipt = run(provider.post, self.sample("post"))
        assert isinstance(receipt, PostReceipt)
        assert receipt.performed is not self.simulates
        if self.simulates:
            return
        assert isinstance(receipt.post_id, str)
        assert receipt.post_id
        second = run(provider.post, SocialPost(text="Conformance: a second post"))
        assert second.post_id != receipt.post_id

    def test_a_reply_to_a_published_post(self, provider: Any, run: Run) -> None:
        if self.simulates:
            pytest.skip("a simulating provider publishes nothing to answer")
        first = run(provider.post, self.sample("post"))
        answer = SocialPost(text="Conformance: a reply", in_reply_to=first.post_id)
        reply = run(provider.post, answer)
        assert isinstance(reply, PostReceipt)
        assert reply.post_id not in (None, first.post_id)

    def test_a_post_with_an_image_and_alt_text(self, provider: Any, run: Run) -> None:
        image = Media(filename="pixel.png", content=PIXEL_PNG, description="one pixel")
        receipt = run(provider.post, SocialPost(text="Conformance: an image", media=image))
        assert isinstance(receipt, PostReceipt)
        assert receipt.performed is not self.simulates

    def test_text_longer_than_the_network_allows_is_invalid_input(
        self, provider: Any, run: Run
    ) -> None:
        if self.simulates:
            pytest.skip("a simulating provider checks no network limit")
        with pytest.raises(InvalidInput):
            run(provider.post, SocialPost(text="word " * (self.too_long // 5)))
