"""The background sweep that completes orders finished by evacuation reports alone."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from floodpost.errors import Unavailable
from floodpost.orders.service import OrderBook

log = logging.getLogger(__name__)
SETTLE_EVERY_S = 10.0


def start_sweep(
    book_of: Callable[[], OrderBook], every_s: float = SETTLE_EVERY_S
) -> Callable[[], None]:
    """Evacuation reports can finish an order with no order write: complete such orders every
    `every_s` seconds (stored, logged, streamed as `event: order`). `book_of()` gives the app's
    current order book. Returns the stop function;
    the sweep also ends by itself once the store is closed."""
    stop = threading.Event()

    def sweep() -> None:
        while not stop.wait(every_s):
            try:
                book_of().settle_open()
            except Unavailable:
                return
            except Exception:  # noqa: BLE001 - a lost connection: the next round tries again
                log.debug("order sweep failed", exc_info=True)

    threading.Thread(target=sweep, name="floodpost-order-sweep", daemon=True).start()
    return stop.set
