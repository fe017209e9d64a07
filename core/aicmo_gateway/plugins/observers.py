"""Observer hooks (``aicmo_call_finished``, ...): who implements them, and calling them.

Each observer is called directly, in its own ``try``: one that raises is logged (its
traceback as text, scrubbed) and skipped, never breaks a call nor stops the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from aicmo_gateway.logs import logger

__all__ = ["Observers"]


class Observers:
    """The observer hooks' implementations on ``pm``, each looked up once when first asked."""

    def __init__(self, pm: pluggy.PluginManager, *, trace: bool = False) -> None:
        self.pm = pm
        self.trace = trace
        self._impls: dict[str, list[Any]] = {}

    def observes(self, hook: str) -> bool:
        """Whether any plugin implements the observer ``hook`` (so a record is worth building)."""
        impls = self._impls.get(hook)
        if impls is None:
            impls = self._lookup(hook)
        return bool(impls)

    def _lookup(self, hook: str) -> list[Any]:
        # registration is over once discovery ends: look the hook up once
        impls = self._impls[hook] = list(getattr(self.pm.hook, hook).get_hookimpls())
        return impls

    def notify(self, hook: str, scrub: Callable[[str], str] | None = None, **kwargs: Any) -> None:
        """Call an observer hook on every plugin; an observer that raises is logged, not raised.

        The log line carries the traceback as text, ``scrub`` applied, never the exception
        itself: a sink with loguru's ``diagnose`` would print the frames' variables, such as
        the call record and the value a provider returned.
        """
        impls = self._impls.get(hook)
        if impls is None:
            impls = self._lookup(hook)
        for impl in impls:
            if self.trace:
                logger.debug("hook {} -> {}", hook, impl.plugin_name)
            try:
                impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                logger.warning(
                    "observer {} of plugin {} raised; ignored\n{}",
                    hook,
                    impl.plugin_name,
                    _traceback_text(exc, scrub),
                )


def _traceback_text(exc: BaseException, scrub: Callable[[str], str] | None) -> str:
    """``exc``'s traceback and chain as text, without the frames' variables, scrubbed."""
    import traceback

    text = "".join(traceback.format_exception(exc)).rstrip("\n")
    return scrub(text) if scrub is not None else text
