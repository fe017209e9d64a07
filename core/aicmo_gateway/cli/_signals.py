"""``on_stop_signals``: how Ctrl-C and SIGTERM reach a long-running command's event loop.

``pipeline run`` and ``outbox replay`` stop gracefully on the first signal and at once on the
second; both route the signals through here.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["on_stop_signals"]


def on_stop_signals(received: Callable[[str], None]) -> Callable[[], None]:
    """Call ``received(name)`` (``"Ctrl-C"`` or ``"SIGTERM"``) on each SIGINT and SIGTERM the
    running loop gets; the function that removes the handlers again.

    Only the main thread receives signals: elsewhere (the demo runs commands in a thread),
    and where the loop cannot take handlers (Windows), nothing is installed and Ctrl-C
    raises ``KeyboardInterrupt`` as usual.
    """
    import asyncio
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed = []
    for sig, name in ((signal.SIGINT, "Ctrl-C"), (getattr(signal, "SIGTERM", None), "SIGTERM")):
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, received, name)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(sig)

    def undo() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return undo
