"""The event stream: one reader per process reads the changes table and fans out to subscribers.

Reading `store.changes_after(seq)` (not an in-process hook) means a report written by any worker
process, or by another program on the same store (the demo replay, an import), reaches every open
screen — on SQLite and PostgreSQL alike. The reader sleeps until `store.watch_changes` wakes it
(a commit here at once; another process's within milliseconds: SQLite data_version, PostgreSQL
LISTEN/NOTIFY), so a report reaches screens in milliseconds; it still reads every
`poll_interval_s` in case a wake-up was missed (a writer that bypasses the store). Each
subscriber gets batches in its mailbox (`Subscriber`); a subscriber that falls too far behind is
dropped and its browser reconnects with Last-Event-ID, catching up from the store, so a slow
screen never holds memory for everyone.

The SSE bytes (ids = changes.seq; each event encoded once, in the broker's thread, for every
screen) are produced by `sse_events`, which first replays what the client
missed (from the store, in pages) and then follows the live batches, skipping anything it already
sent — there is no gap between the catch-up and the live part.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable
from typing import Any

from floodpost.storage.base import Change, Store

_CLOSED = object()
KEEPALIVE = object()
CATCH_UP_PAGE = 1000
# Further behind than this, a client is told to reload its snapshot instead of replaying.
CATCH_UP_MAX = 50_000


class Subscriber:
    """One open stream's mailbox, filled on its event loop by the broker's `_deliver`.

    A deque and one future per wait, not asyncio.Queue, and the keep-alive from one timer that
    re-arms itself, not an `asyncio.timeout` around every wait: with 200 screens each event
    is 200 waits, and the timeout's timer handle and the queue's getter bookkeeping were ≈ 20 %
    of the server's per-screen CPU in the profile (bench/README.md, bench_push)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        start_seq: int,
        max_batches: int,
        keepalive_s: float | None = None,
    ) -> None:
        self.loop = loop
        self.start_seq = start_seq
        self.max_batches = max_batches
        self.dropped = False
        self._items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._keepalive_s = keepalive_s
        self._last = loop.time()  # when the reader last took something
        self._timer: asyncio.TimerHandle | None = None
        if keepalive_s is not None:
            self._timer = loop.call_later(keepalive_s, self._tick)

    def _put(self, item: Any) -> None:
        if self.dropped:
            return  # its _CLOSED is already queued: nothing more for a screen that fell behind
        if item is not _CLOSED and len(self._items) >= self.max_batches:
            self.dropped = True
            item = _CLOSED
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _tick(self) -> None:
        assert self._keepalive_s is not None
        idle = self.loop.time() - self._last
        delay = self._keepalive_s - idle
        if delay <= self._keepalive_s * 0.001:
            if not self._items:  # (items waiting: the reader is busy writing, not idle)
                self._put(KEEPALIVE)
            delay = self._keepalive_s
        self._timer = self.loop.call_later(delay, self._tick)

    def end(self) -> None:
        """End the stream from its own event loop (the client went away)."""
        self._put(_CLOSED)

    async def get(self) -> Any:
        """The next batch [(change, SSE bytes)], KEEPALIVE after `keepalive_s` without one, or
        _CLOSED when the stream must end."""
        while not self._items:
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self._last = self.loop.time()
        return self._items.popleft()

    def pending(self) -> int:
        return len(self._items)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _deliver(subs: list[Subscriber], item: Any) -> None:
    for sub in subs:
        sub._put(item)  # noqa: SLF001 - same module


def _push_all(subs: list[Subscriber], item: Any) -> None:
    """Hand `item` to every subscriber, with one wake-up per event loop (a uvicorn worker serves
    all its screens from one loop: 100 call_soon_threadsafe calls would wake it 100 times)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Subscriber]] = {}
    for sub in subs:
        by_loop.setdefault(sub.loop, []).append(sub)
    for loop, group in by_loop.items():
        try:
            loop.call_soon_threadsafe(_deliver, group, item)
        except RuntimeError:  # its event loop is gone
            for sub in group:
                sub.dropped = True


class Broker:
    def __init__(
        self,
        store: Store,
        *,
        poll_interval_s: float = 2.0,
        batch: int = 1000,
        max_batches: int = 500,
    ) -> None:
        self.store = store
        self.poll_interval_s = poll_interval_s
        self.batch = batch
        self.max_batches = max_batches
        self.seq = 0
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._unwatch: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self.errors = 0

    # -- the poller -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._unwatch = self.store.watch_changes(self._wake.set)
            self._thread = threading.Thread(target=self._run, name="floodpost-events", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            # Cleared before reading: a commit landing during the read wakes the next wait.
            self._wake.clear()
            try:
                changes = self.store.changes_after(self.seq, self.batch)
            except Exception:  # noqa: BLE001 - a store hiccup must not kill the stream for good
                self.errors += 1
                self._stop.wait(1.0)
                continue
            if changes:
                # Each event's SSE text is made once here, not once per open screen.
                batch = [(c, format_event(c)) for c in changes]
                with self._lock:
                    self.seq = changes[-1].seq
                    subs = list(self._subs)
                _push_all(subs, batch)
            if len(changes) < self.batch:
                self._wake.wait(self.poll_interval_s)

    def close_subscribers(self) -> None:
        """End every open stream now (the server is shutting down: uvicorn waits for open
        connections to finish, and an event stream never does by itself). Thread-safe."""
        with self._lock:
            subs = list(self._subs)
            self._subs.clear()
        _push_all(subs, _CLOSED)

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._unwatch is not None:
            await asyncio.to_thread(self._unwatch)
            self._unwatch = None
        with self._lock:
            subs = list(self._subs)
            self._subs.clear()
        _push_all(subs, _CLOSED)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)

    # -- subscribers ------------------------------------------------------------------------
    def subscribe(self, keepalive_s: float | None = None) -> Subscriber:
        """A new subscriber (starts the poller on first use, so an app that never streams
        never polls); with `keepalive_s`, its `get` returns KEEPALIVE after that long idle."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self.seq = self.store.last_change_seq()
                self.start()
            sub = Subscriber(loop, self.seq, self.max_batches, keepalive_s)
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)
        sub.close()

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)


def format_event(change: Change) -> bytes:
    """A report change as `event: report`; any other entity E's change as `event: E`, its data
    the logged body (the warning, the order... as its own API returns it). UTF-8 bytes, made
    once per event for every screen."""
    data = json.dumps(change.report, ensure_ascii=False, separators=(",", ":"))
    return f"id: {change.seq}\nevent: {change.entity}\ndata: {data}\n\n".encode()


def _everyone(entity: str, body: dict[str, Any]) -> bool:
    return True


def _reset(seq: int) -> bytes:
    return f'id: {seq}\nevent: reset\ndata: {{"seq":{seq}}}\n\n'.encode()


_KEEPALIVE_TEXT = b": keep-alive\n\n"


async def sse_events(
    broker: Broker,
    *,
    after: int | None,
    allow: Callable[[dict[str, Any]], bool] | None = None,
    allow_entity: Callable[[str, dict[str, Any]], bool] | None = None,
    keepalive_s: float = 15.0,
    retry_ms: int = 3000,
    subscriber: Subscriber | None = None,
) -> AsyncGenerator[bytes, None]:
    """SSE bytes for one client. `after` = the last event id it saw (None: only new events).
    `allow(report)` filters report changes; `allow_entity(entity, body)` those of other
    entities (None: all of them — then the broker's bytes are passed on without a look at
    each change). `subscriber`: one made by `broker.subscribe(keepalive_s)` (so its owner can
    `end()` it); by default the stream makes its own."""

    def shown(change: Change) -> bool:
        if change.entity == "report":
            return allow is None or allow(change.report)
        return allow_entity is None or allow_entity(change.entity, change.report)

    everything = allow is None and allow_entity is None
    sub = subscriber or broker.subscribe(keepalive_s)
    store = broker.store
    try:
        yield f"retry: {retry_ms}\n: floodpost events\n\n".encode()
        last = sub.start_seq if after is None else after
        if after is not None and (sub.start_seq - after > CATCH_UP_MAX or after > sub.start_seq):
            # Replaying hundreds of thousands of events would be slower than a fresh snapshot;
            # an id from the future means another store (restored or rebuilt): start afresh.
            last = sub.start_seq
            yield _reset(last)
        elif after is not None:
            while True:
                page = await asyncio.to_thread(store.changes_after, last, CATCH_UP_PAGE)
                chunk = [format_event(c) for c in page if shown(c)]
                if page:
                    last = page[-1].seq
                if chunk:
                    yield b"".join(chunk)
                if len(page) < CATCH_UP_PAGE:
                    break
        while True:
            batch = await sub.get()
            if batch is KEEPALIVE:
                yield _KEEPALIVE_TEXT
                continue
            if batch is _CLOSED:
                return
            if everything and batch[0][0].seq > last:  # the usual case: nothing to skip
                last = batch[-1][0].seq
                yield batch[0][1] if len(batch) == 1 else b"".join(t for _c, t in batch)
                continue
            chunk = []
            for change, text in batch:
                if change.seq <= last:
                    continue
                last = change.seq
                if shown(change):
                    chunk.append(text)
            if chunk:
                yield b"".join(chunk)
    finally:
        broker.unsubscribe(sub)
