"""Open event streams end when the server is asked to stop.

On SIGINT/SIGTERM uvicorn stops accepting, then waits for open connections to finish before the
app's shutdown runs — and an event stream never finishes by itself, so the server would wait
forever. The app's lifespan therefore chains its own handler in front of the server's: it asks
the broker to end every stream (each browser reconnects with Last-Event-ID to whichever server
answers next), then calls the server's handler as before. No server class is patched.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from floodpost.live.broker import Broker

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def end_streams_on_signal(broker: Broker, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Install the handlers; returns the function that puts the previous ones back.

    Signal handlers belong to the main thread: under a test client (another thread) this does
    nothing, as there is no server to stop.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}

    def handler(sig: int, frame: FrameType | None) -> None:
        # On the loop, not in the signal handler: the broker's lock may be held by the very
        # code this signal interrupted.
        loop.call_soon_threadsafe(broker.close_subscribers)
        before = previous.get(sig)
        if callable(before):
            before(sig, frame)
        elif before == signal.SIG_DFL:  # no server handler: stop as the signal would have
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    for sig in SIGNALS:
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, before)

    return restore
