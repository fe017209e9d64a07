"""Whether a store's server answers: one warning when it stops, reconnection with backoff.

A store that cannot reach its server lets every call go on with the process's local state.
:class:`Reach` keeps the bookkeeping: :meth:`Reach.lost` logs one warning when the server
goes away (not one per call), :meth:`Reach.due` says when the next reconnection attempt may
run (backoff doubling from ``first`` to ``longest`` seconds), :meth:`Reach.back` logs that
sharing resumed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from loguru import logger

__all__ = ["Reach"]


class Reach:
    def __init__(
        self,
        shown: str,
        *,
        first: float = 0.5,
        longest: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shown = shown
        self.first = first
        self.longest = longest
        self._clock = clock
        #: wall-clock time the server stopped answering (``None`` while it answers)
        self.down_since: datetime | None = None
        self.error: str | None = None
        self._delay = first
        self._next = 0.0
        self.outages = 0

    @property
    def up(self) -> bool:
        return self.down_since is None

    def lost(self, exc: BaseException) -> None:
        """The server did not answer: warn once, then try again after the backoff."""
        self.error = f"{type(exc).__name__}: {exc}"[:300]
        if self.down_since is None:
            self.down_since = datetime.now(UTC)
            self.outages += 1
            self._delay = self.first
            logger.warning(
                "shared state store {} unreachable ({}): calls go on with this process's "
                "own state until it is back",
                self.shown,
                self.error,
            )
        else:
            self._delay = min(self._delay * 2, self.longest)
        self._next = self._clock() + self._delay

    def due(self) -> bool:
        """Down, and the backoff has passed: time for one reconnection attempt."""
        if self.down_since is None or self._clock() < self._next:
            return False
        self._next = self._clock() + self._delay  # one attempt per period, however many ask
        return True

    def back(self) -> None:
        if self.down_since is not None:
            logger.info("shared state store {} reachable again: sharing resumed", self.shown)
        self.down_since, self.error, self._delay = None, None, self.first

    def state(self, kind: str) -> dict[str, Any]:
        return {
            "store": self.shown,
            "kind": kind,
            "reachable": self.down_since is None,
            "unreachable_since": self.down_since.isoformat() if self.down_since else None,
            "error": self.error,
            "outages": self.outages,
        }
