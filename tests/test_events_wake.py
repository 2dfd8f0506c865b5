"""The event stream is woken by commits (issue 14 §1), not only by its fallback poll.

Every broker here polls every 30 s, longer than any wait in these tests: an event that arrives
was delivered by a wake-up — the writer's commit listener in this process, and in another
process SQLite's data_version or PostgreSQL's LISTEN/NOTIFY (storage/signals.py).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from typing import Any

import pytest

from floodpost.live.broker import Broker, sse_events
from floodpost.storage import open_store
from floodpost.storage.base import WriteTx

SLOW_POLL_S = 30.0
WAIT_S = 10.0

_OTHER_PROCESS = """
import sys
from floodpost.storage import open_store
store = open_store(sys.argv[1])
for i in range(int(sys.argv[2])):
    store.transact(lambda tx, i=i: tx.log("note", f"n{i}", "create", {"i": i}, actor="other"))
store.close()
"""


def _note(i: int):
    def work(tx: WriteTx) -> int:
        return tx.log("note", f"n{i}", "create", {"i": i}, actor="here")

    return work


def _run(coro: Any) -> Any:
    """asyncio.run on a thread of its own: a browser test's Playwright (sync API) may have left an
    event loop running on the main thread, where asyncio.run refuses to start."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


async def _collect(sub: Any, count: int) -> list[Any]:
    got: list[Any] = []
    while len(got) < count:
        batch = await asyncio.wait_for(sub.get(), WAIT_S)
        got += [change for change, _text in batch]
    return got


@pytest.fixture
def wstore(store_url):
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


def test_another_process_write_wakes_the_broker(wstore, store_url):
    async def main() -> list[Any]:
        broker = Broker(wstore, poll_interval_s=SLOW_POLL_S)
        sub = broker.subscribe()
        try:
            await asyncio.sleep(0.2)  # the broker's first read is done: it now waits
            proc = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", _OTHER_PROCESS, store_url, "3"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode == 0, proc.stderr
            return await _collect(sub, 3)
        finally:
            await broker.stop()

    got = _run(main())
    assert [(c.entity, c.report["i"], c.actor) for c in got] == [
        ("note", 0, "other"),
        ("note", 1, "other"),
        ("note", 2, "other"),
    ]


def test_local_commit_wakes_the_broker(wstore):
    async def main() -> list[Any]:
        broker = Broker(wstore, poll_interval_s=SLOW_POLL_S)
        sub = broker.subscribe()
        try:
            await asyncio.sleep(0.2)
            await asyncio.to_thread(wstore.transact, _note(1))
            return await _collect(sub, 1)
        finally:
            await broker.stop()

    [change] = _run(main())
    assert change.entity == "note" and change.report == {"i": 1}


def test_every_event_once_in_order_while_woken(wstore, store_url):
    """Writes from this process and from another connection race the reader's wake-ups and
    reads; each screen still gets each change exactly once, in seq order."""
    other = open_store(store_url)
    n = 150

    async def main() -> tuple[list[bytes], list[int]]:
        broker = Broker(wstore, poll_interval_s=SLOW_POLL_S)
        stream = sse_events(broker, after=None, keepalive_s=WAIT_S)
        await stream.__anext__()  # subscribed (the retry line)
        writers = [
            threading.Thread(target=lambda: [wstore.transact(_note(i)) for i in range(n)]),
            threading.Thread(target=lambda: [other.transact(_note(n + i)) for i in range(n)]),
        ]
        for w in writers:
            w.start()
        text: list[bytes] = []
        try:
            while sum(t.count(b"event: note") for t in text) < 2 * n:
                text.append(await asyncio.wait_for(stream.__anext__(), WAIT_S))
        finally:
            for w in writers:
                w.join()
            await stream.aclose()
            await broker.stop()
        ids = [int(line[4:]) for t in text for line in t.splitlines() if line.startswith(b"id: ")]
        return text, ids

    try:
        _text, ids = _run(main())
    finally:
        other.close()
    assert len(ids) == 2 * n
    assert ids == sorted(set(ids))
    assert ids == [c.seq for c in wstore.changes_after(ids[0] - 1, 10 * n)]


def test_commit_listener_runs_after_commits_only(wstore):
    calls: list[int] = []
    remove = wstore._writer.add_commit_listener(lambda: calls.append(1))  # noqa: SLF001

    def fails(tx: WriteTx) -> None:
        raise ValueError("no")

    wstore.transact(_note(1))
    assert calls == [1]
    with pytest.raises(ValueError):
        wstore.transact(fails)  # its savepoint rolls back; the (empty) batch still commits
    remove()
    wstore.transact(_note(2))
    assert len(calls) == 2
