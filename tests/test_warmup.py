"""Warming up (issue 14 §5): the follower publishes its progress while it seeds, readers that must
not wait get WarmingUp at once, and the steady state (in order, exactly once) is unchanged.

Timing is controlled with Events: a projection whose seed waits on `gate` holds the warm-up
exactly where the test wants it; no sleeps, no wall-clock assertions."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from floodpost.errors import WarmingUp
from floodpost.live.follower import ChangeFollower
from floodpost.storage.base import Change
from tests.test_store import _report

WAIT_S = 30.0  # only a safety net against a hung test; nothing waits for it to pass


class Held:
    """A projection whose seed reports progress, then waits until the test opens `gate`."""

    def __init__(self, store: Any, follower: ChangeFollower, *, hold_from: int = 1) -> None:
        self.store = store
        self.follower = follower
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.seeds = 0
        self.hold_from = hold_from  # the first seed (1-based) that waits on the gate
        self.seen: list[int] = []

    def seed(self) -> int:
        self.seeds += 1
        seq = self.store.last_change_seq()
        self.follower.tick(1, 4)
        if self.seeds >= self.hold_from:
            self.entered.set()
            assert self.gate.wait(WAIT_S)
        return seq

    def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
        self.seen.append(change.seq)

    def reset(self) -> None:
        self.seen = []


def _add(store, n: int) -> list[int]:
    out = []
    for i in range(n):
        r, h = _report(people=i + 1)
        store.create_report(r, h, actor="a")
        out.append(store.last_change_seq())
    return out


def test_warm_up_reports_progress_and_reads_do_not_wait(store):
    _add(store, 3)
    follower = ChangeFollower(store, warm_wait_s=0)
    held = Held(store, follower)
    follower.subscribe(held, seed=held.seed, name="held", weight=3.0)
    assert follower.progress().state == "cold"
    assert follower.warm()
    assert held.entered.wait(WAIT_S)
    p = follower.progress()
    # Step "held" a quarter done; it weighs 3 of 4 (the catch-up weighs 1).
    assert (p.state, p.step, p.done, p.total, p.fraction) == ("warming", "held", 1, 4, 0.188)
    with pytest.raises(WarmingUp) as caught:
        with follower.try_current():
            pytest.fail("read while warming")
    err = caught.value
    assert err.status == 503 and err.code == "warming_up"
    assert err.extra["progress"]["step"] == "held" and err.extra["retry_after_s"] > 0
    assert "18%" in err.message
    assert not follower.warm()  # one warm-up at a time
    held.gate.set()
    assert follower.wait_ready(WAIT_S)
    assert follower.progress().state == "ready" and follower.progress().fraction == 1.0
    later = _add(store, 2)
    with follower.try_current() as seq:
        assert seq == later[-1]
        assert held.seen == later  # only what followed the seed, in order, once
    with follower.try_current():
        assert held.seen == later


def test_a_reseed_warms_up_in_the_background(store):
    follower = ChangeFollower(store, reseed_after=2, warm_wait_s=0)
    held = Held(store, follower, hold_from=2)
    follower.subscribe(held, seed=held.seed, name="held")
    assert follower.warm() and follower.wait_ready(WAIT_S)
    assert held.seeds == 1 and follower.progress().state == "ready"
    few = _add(store, 2)
    with follower.try_current():  # two behind: applied in place
        assert held.seen == few
    _add(store, 3)  # three behind > reseed_after: a reseed, in the background
    with pytest.raises(WarmingUp):
        with follower.try_current():
            pytest.fail("read while reseeding")
    assert held.entered.wait(WAIT_S)
    assert follower.progress().state == "warming"
    held.gate.set()
    assert follower.wait_ready(WAIT_S)
    with follower.try_current() as seq:
        assert held.seeds == 2 and held.seen == [] and seq == store.last_change_seq()


def test_blocking_readers_still_wait_for_the_warm_up(store):
    """Without warm_wait_s (tests, the CLI, the SMS notifier's own follower) current() and
    try_current() bring everything up to date first, as before."""
    seqs = _add(store, 2)
    follower = ChangeFollower(store)
    seen: list[int] = []

    class Log:
        def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
            seen.append(change.seq)

        def reset(self) -> None:
            seen.clear()

    follower.subscribe(Log())
    with follower.try_current() as seq:
        assert seq == seqs[-1] and seen[-2:] == seqs
    assert follower.progress().state == "ready"


def test_a_failed_warm_up_is_tried_again_by_the_next_reader(store):
    _add(store, 1)
    follower = ChangeFollower(store, warm_wait_s=0)
    calls: list[int] = []
    done, again = threading.Event(), threading.Event()

    class Flaky:
        def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
            pass

        def reset(self) -> None:
            pass

    def seed() -> int:
        calls.append(1)
        if len(calls) == 1:
            done.set()
            raise RuntimeError("store hiccup")
        assert again.wait(WAIT_S)
        return store.last_change_seq()

    follower.subscribe(Flaky(), seed=seed)
    follower.warm()
    assert done.wait(WAIT_S)
    for thread in threading.enumerate():  # the failed warm-up has ended (and said so in the log)
        if thread.name == "floodpost-warm":
            thread.join(WAIT_S)
    assert follower.progress().state == "cold"
    with pytest.raises(WarmingUp):  # the next reader starts another warm-up and does not wait
        with follower.try_current():
            pass
    again.set()
    assert follower.wait_ready(WAIT_S) and len(calls) == 2
