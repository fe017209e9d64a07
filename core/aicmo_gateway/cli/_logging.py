"""The command line's log handler: the library's lines on standard error, by verbosity.

The library is silent by default (``logger.disable`` for the core and each plugin); the
command line is an application, so it shows them: warnings by default, each call's steps
with ``-v`` (INFO), everything with ``-vv`` (DEBUG). A line about a call reads
``12:00:00.123 INFO    [email_sending/relay call 3f2a...] message``.

Nothing here imports loguru: the handler is set up when something first logs, so
``--help`` and commands that never log stay fast.
"""

from __future__ import annotations

import contextlib
import sys

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable

    from loguru import Logger, Record

__all__ = ["LEVELS", "configure_logging", "format_line", "restore_logging", "verbosity"]

#: the level shown for each count of ``-v``
LEVELS = ("WARNING", "INFO", "DEBUG")
#: the handler this module added last (replaced when the command line runs again in-process)
_HANDLER: list[int] = []
#: the pending set-up, while loguru is not imported yet
_INSTALL: list[Callable[[Logger], None]] = []


def format_line(record: Record) -> str:
    """loguru's format for one record: the call's fields first when the line is about one.

    The handler runs in the thread and context that logged, so the call's fields are
    added here to the plugins' lines too (the core's carry them already).
    """
    from aicmo_gateway.logs import add_call_context

    add_call_context(record)
    extra = record["extra"]
    where = ""
    if "call_id" in extra:
        where = "[{extra[capability]}/{extra[provider]} call {extra[call_id]}] "
    elif "provider" in extra:
        where = "[{extra[provider]}] "
    return "{time:HH:mm:ss.SSS} {level: <7} " + where + "{message}\n{exception}"


def _write(message: str) -> None:
    # the standard error of the moment (a test runner may have replaced it)
    sys.stderr.write(message)


def verbosity(verbose: int) -> int:
    """The verbosity for ``verbose`` counts of ``-v``: everything with the trace switch on."""
    import os

    from aicmo_gateway.plugins.switches import ENV_TRACE

    if os.environ.get(ENV_TRACE):
        from aicmo_gateway.config_values import truth_word

        if truth_word(os.environ[ENV_TRACE]) is True:
            return len(LEVELS) - 1
    return verbose


def configure_logging(verbosity: int) -> None:
    """Show the core's and the plugins' lines at ``LEVELS[verbosity]`` on standard error."""
    from aicmo_gateway.logs import activate, when_loguru_imported

    level = LEVELS[min(max(verbosity, 0), len(LEVELS) - 1)]

    def install(logger: Logger) -> None:
        for handler in [0, *_HANDLER]:  # loguru's default handler, then ours
            with contextlib.suppress(ValueError):
                logger.remove(handler)
        # diagnose off: a traceback never shows the frames' variables (records, values)
        _HANDLER[:] = [
            logger.add(_write, level=level, format=format_line, colorize=False, diagnose=False)
        ]

    activate()
    _INSTALL[:] = [install]
    when_loguru_imported(install)


def restore_logging() -> None:
    """Undo :func:`configure_logging` when the command ends (it may run in-process again)."""
    from aicmo_gateway.logs import cancel, deactivate

    deactivate()
    for install in _INSTALL:
        cancel(install)
    _INSTALL.clear()
    loguru = sys.modules.get("loguru")
    if loguru is not None:
        for handler in _HANDLER:
            with contextlib.suppress(ValueError):
                loguru.logger.remove(handler)
    _HANDLER.clear()
