"""Orders and warnings texted to the responsible members of their villages' zones (#11).

A projection on a change-log follower takes each order issued and each warning raised or risen
and only queues it (apply runs under the follower's lock); a worker thread sends the queue
through gammu-smsd-inject, and follows queued sends to "sent"/"failed" through gammu's folders.

Once per (order, phone) and (warning, level, phone): every send is kept in sms_messages under an
id made from that key (messages.send), so a second app, a restart or a replayed change sends
nothing again. The follower is seeded with the newest change at start-up: orders issued before
the app started are not sent then (they were, or deliberately were not, when issued).

The notifier has its own ChangeFollower on the app's store: a layers reload builds a new Context
(and follower), and the notifier keeps going through it; the catalogue-derived parts (zone of a
village, village names) come from the app's current order book at send time.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from floodpost.errors import Forbidden, InvalidInput, Unavailable
from floodpost.hydro.rules import SEVERITY
from floodpost.live.follower import ChangeFollower
from floodpost.orders.service import OrderBook
from floodpost.sms import messages
from floodpost.sms.accounts import recipients
from floodpost.sms.gammu_env import normalize_phone, valid_phone
from floodpost.sms.outgoing import SmsSender, order_notice, warning_notice
from floodpost.sms.texts import sms_text
from floodpost.storage.base import Change, Store

log = logging.getLogger(__name__)
ENTITIES = frozenset({"order", "warning"})
POLL_S = 2.0
MAX_NOTIFY = 50  # numbers a commander may name at once
NOTE_CHARS = 40  # of the commander's message, in the SMS (the app shows it whole)


@dataclass(frozen=True)
class Outgoing:
    key: str  # once per key, ever
    number: str
    text: str


def short_id(order_id: str) -> str:
    """What an SMS quotes and `收到 <编号>` answers with (OrderBook.resolve_short_id)."""
    return order_id[:8]


def _codes(order: dict[str, Any]) -> list[str]:
    """The order's village codes: its view (the logged body) lists them as rows."""
    return [v["code"] if isinstance(v, dict) else str(v) for v in order.get("villages", [])]


def order_text(order: dict[str, Any], book: OrderBook) -> str:
    names = [
        str((book.catalogue.villages_by_code.get(c) or {}).get("name") or c) for c in _codes(order)
    ]
    note = str(order.get("message") or "")
    return order_notice(
        short_id=short_id(order["id"]),
        level=order["level"],
        places=names,
        note=note[:NOTE_CHARS],
    )


def warning_text(warning: dict[str, Any]) -> str:
    # Reservoir levels (above_design …) read as the action they call for: prepare or evacuate.
    word = "evacuate" if SEVERITY.get(warning.get("level", ""), 0) >= 3 else "prepare"
    reason_key = "sms.reason.rain" if warning.get("window_h") else "sms.reason.level"
    reason = sms_text(
        reason_key,
        station=warning.get("station_name") or warning.get("station") or "",
        hours=warning.get("window_h") or "",
        observed=warning.get("observed"),
    )
    return warning_notice(level=word, place=str(warning.get("name") or ""), reason=reason)


def order_messages(order: dict[str, Any], book: OrderBook) -> list[Outgoing]:
    text = order_text(order, book)
    return [
        Outgoing(f"order:{order['id']}:{normalize_phone(phone)}", phone, text)
        for _, phone in recipients(book.store.read, _codes(order), book.zone_of)
    ]


def warning_messages(warning: dict[str, Any], book: OrderBook) -> list[Outgoing]:
    text = warning_text(warning)
    # A rise is a new level: sent again, once per level.
    tag = f"warning:{warning['id']}:{warning.get('level')}"
    return [
        Outgoing(f"{tag}:{normalize_phone(phone)}", phone, text)
        for _, phone in recipients(book.store.read, warning.get("villages", []), book.zone_of)
    ]


class Notifier:
    """The projection (apply/reset) and the worker that sends what it queued."""

    def __init__(
        self,
        store: Store,
        sender: SmsSender,
        book_of: Callable[[], OrderBook],
        *,
        gateway: Any | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.store = store
        self.sender = sender
        self.book_of = book_of
        self.gateway = gateway  # GammuConfig, to follow queued sends; None: not followed
        self.poll_s = poll_s
        self.follower = ChangeFollower(store)
        self.follower.subscribe(self, ENTITIES, seed=store.last_change_seq)
        self.pending: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- projection (under the follower's lock: queue only) ------------------------------
    def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
        if change.entity == "order" and change.action == "issue":
            self.pending.put(("order", change.report))
        elif change.entity == "warning" and change.action in ("raise", "rise"):
            self.pending.put(("warning", change.report))

    def reset(self) -> None:
        """Nothing kept in memory: what was sent is in sms_messages."""

    # ---- worker --------------------------------------------------------------------------
    def run_once(self) -> int:
        """Take new changes in, send what they call for; returns how many sends were made."""
        self.follower.sync()
        sent = 0
        while True:
            try:
                kind, body = self.pending.get_nowait()
            except queue.Empty:
                break
            book = self.book_of()
            out = order_messages(body, book) if kind == "order" else warning_messages(body, book)
            for msg in out:
                messages.send(self.store, self.sender, msg.number, msg.text, key=msg.key)
                sent += 1
        if self.gateway is not None:
            messages.follow_sent(self.store, self.gateway)
        return sent

    def start(self) -> Callable[[], None]:
        self.follower.sync()  # seeded now: only what is issued from here on is sent

        def loop() -> None:
            while not self._stop.wait(self.poll_s):
                try:
                    self.run_once()
                except Unavailable:
                    return  # the store is closed: the app is going
                except Exception:  # noqa: BLE001 - a lost connection: the next round tries again
                    log.warning("SMS notifications failed this round", exc_info=True)

        self._thread = threading.Thread(target=loop, name="floodpost-sms-notify", daemon=True)
        self._thread.start()
        return self._stop.set


def notify_numbers(
    store: Store, sender: SmsSender, book: OrderBook, order_id: str, numbers: Iterable[Any]
) -> list[dict[str, Any]]:
    """POST /api/orders/{id}/notify: text the order to numbers a commander names (county leaders,
    a township's duty phone); once per (order, number), like the automatic sends."""
    numbers = list(numbers)
    if not numbers or len(numbers) > MAX_NOTIFY:
        raise InvalidInput(f"numbers: 1 to {MAX_NOTIFY} phone numbers", field="numbers")
    for i, n in enumerate(numbers):
        if not isinstance(n, str) or not valid_phone(n.replace(" ", "").replace("-", "")):
            raise InvalidInput(f"numbers[{i}] is not a phone number", field=f"numbers[{i}]")
    from floodpost.orders.service import Actor

    order = book.get(order_id, Actor("notify", "commander"))
    if order.get("status") == "cancelled":
        raise Forbidden("this order was cancelled", field="id")
    text = order_text(order, book)
    out = []
    for n in dict.fromkeys(n.replace(" ", "").replace("-", "") for n in numbers):
        key = f"order:{order['id']}:{normalize_phone(n)}"
        out.append(messages.send(store, sender, n, text, key=key))
    return out


def start_notifier(
    store: Store, settings: Any, book_of: Callable[[], OrderBook]
) -> Callable[[], None]:
    """The app's notifier (lifespan): seeded now, sending every POLL_S; returns its stop."""
    from floodpost.sms.gammu_config import GammuConfig

    gateway = None
    if settings.sms_gammu_config.is_file():
        gateway = GammuConfig.read(settings.sms_gammu_config)
    notifier = Notifier(store, SmsSender.from_settings(settings), book_of, gateway=gateway)
    return notifier.start()
