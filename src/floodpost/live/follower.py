"""The one follower of the change log: every in-memory projection is fed from here.

The live picture, the review roll-ups and the coming warnings, orders and roll-call are
projections of the `changes` table. Each used to follow the log with its own paging, its own
"previous version" query and its own body parsing, and two of them disagreed. One
`ChangeFollower` per app reads `Store.changes_after` in pages, decodes each change once, finds
the previous version of the entity (from the same page when it is there, else one indexed read,
`Store.version_before`) and hands `(change, previous)` to every projection subscribed to that
entity, in seq order.

A projection may be *seeded*: instead of replaying the whole log from seq 0 (a million events)
it fills itself from the store's tables and says which seq that state includes; the follower then
feeds it only the changes after that. It is seeded again when it has fallen further behind than
`reseed_after` changes, and after an error in its `apply` (its state is then unknown).

Thread safety: `sync()` and reading a projection's state happen under `lock` (see `current()`),
so a statistic never sees a projection half way through a page.

Warming up (issue 14 §5): seeding the report roll-up from a million events takes ≈ 16 s
(bench/bench_startup.py), all of it under `lock`. `warm()` does that work on a thread of its own
and publishes its `progress()` (which projection, how far, a fraction of the whole); readers that
must not wait (the web routes) use `try_current()`, which answers at once with `WarmingUp`
carrying that progress while a warm-up runs, and otherwise behaves as `current()` — in steady
state that still blocks briefly while the few changes since the last read are applied. A reseed
(fallen more than `reseed_after` changes behind, or a projection whose `apply` failed) is a
warm-up again: `try_current()` starts it in the background and answers `WarmingUp` instead of
holding every reader for the seconds a seed takes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from floodpost.errors import WarmingUp
from floodpost.storage.base import Change, Store

REPORTS = frozenset({"report"})
PAGE = 2000
# Further behind than this, a seeded projection is seeded again instead of replaying.
RESEED_AFTER = 50_000
# How long `try_current()` waits for a warm-up that is running before it answers `WarmingUp`:
# one about to finish is not worth a client's 2 s retry, but the answer must come within the 2 s
# of the issue (with 1.0 the first answer came 1.16 s after /healthz at 200,000 events, load 2).
# None: wait for it (tests, the CLI, the SMS notifier's own follower).
WARM_WAIT_S = 0.5
# The Retry-After a WarmingUp answer suggests (seconds): the map and review poll at this pace.
RETRY_AFTER_S = 2
log = logging.getLogger(__name__)


class Projection(Protocol):
    def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
        """Take one change in; `previous` is the entity's version before it (None if new)."""
        ...

    def reset(self) -> None:
        """Forget everything (the follower will seed or replay from the start)."""
        ...


@dataclass(frozen=True)
class Progress:
    """How far the follower is. `state`: "cold" (nothing read yet, or to be seeded again),
    "warming" (a warm-up runs), "ready". `step`: what the warm-up does now (a projection's name,
    or "catch_up" for the changes after the seeds); `done` of `total` in that step's own units
    (seeded projections: log positions read of the seed's; catch-up: changes);
    `fraction`: of the whole warm-up, 0..1, steps weighted by their `weight`."""

    state: str = "cold"
    step: str | None = None
    done: int = 0
    total: int = 0
    fraction: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Subscription:
    projection: Projection
    entities: frozenset[str]
    seed: Callable[[], int] | None
    name: str
    weight: float
    seq: int | None = None  # the last change this projection has taken in; None: not started


class ChangeFollower:
    def __init__(
        self,
        store: Store,
        *,
        page: int = PAGE,
        reseed_after: int = RESEED_AFTER,
        warm_wait_s: float | None = None,
    ) -> None:
        self.store = store
        self.page = page
        self.reseed_after = reseed_after
        self.warm_wait_s = warm_wait_s
        self.lock = threading.RLock()
        self._subs: list[_Subscription] = []
        self.seq = 0  # the newest change every projection has taken in
        # Progress is replaced whole (one reference swap), so reading it needs no lock.
        self._progress = Progress()
        self._plan: list[tuple[str, float]] = []  # the warm-up's steps and weights
        self._step = 0
        self._warming = threading.Lock()  # held by the one warm-up thread while it runs
        self._ready = threading.Event()

    def subscribe(
        self,
        projection: Projection,
        entities: frozenset[str] = REPORTS,
        *,
        seed: Callable[[], int] | None = None,
        name: str | None = None,
        weight: float = 1.0,
    ) -> None:
        """Feed `projection` the changes of `entities`. `seed()`, if given, fills it from the
        store's tables and returns the seq that state includes (changes up to it are not fed);
        it may report its own progress through `tick`. `weight`: its seed's share of a warm-up
        (relative; the catch-up counts 1)."""
        label = name or type(projection).__name__.lower()
        with self.lock:
            self._subs.append(_Subscription(projection, frozenset(entities), seed, label, weight))
            self._ready.clear()
            self._progress = Progress()

    # -- reading -----------------------------------------------------------------------------
    def sync(self) -> int:
        """Bring every projection up to the newest change; returns that change's seq."""
        with self.lock:
            head = self.store.last_change_seq()
            due = [s for s in self._subs if self._due(s, head)]
            if due:
                self._ready.clear()  # readers that must not wait see the warm-up from here
                self._begin([(s.name, s.weight) for s in due if s.seed is not None])
            try:
                for sub in due:
                    self._start(sub)
                self._follow(head)
            except BaseException:
                for sub in self._subs:
                    sub.seq = None  # state unknown: seed or replay again next time
                self._ready.clear()
                self._progress = Progress()
                raise
            self.seq = head
            if due or not self._ready.is_set():
                self._progress = Progress("ready", None, 0, 0, 1.0)
                self._ready.set()
            return head

    @contextmanager
    def current(self) -> Iterator[int]:
        """Hold the lock with every projection up to date (read them inside)."""
        with self.lock:
            yield self.sync()

    @contextmanager
    def try_current(self) -> Iterator[int]:
        """`current()`, unless a warm-up (a first seed, or a reseed) is needed or running: then
        it runs on a thread of its own (`warm()`) and, if it has not finished within
        `warm_wait_s`, `WarmingUp` is raised with its progress instead of waiting for it."""
        if self.warm_wait_s is not None and not self._settled():
            self.warm()
            if not self._ready.wait(self.warm_wait_s):
                raise WarmingUp(self._progress.as_dict(), retry_after_s=RETRY_AFTER_S)
        with self.current() as seq:
            yield seq

    def progress(self) -> Progress:
        """Where the follower is (thread-safe, never waits)."""
        return self._progress

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """Wait until a warm-up has finished (every projection up to date); False on timeout."""
        return self._ready.wait(timeout_s)

    # -- warming up --------------------------------------------------------------------------
    def warm(self, then: Sequence[Callable[[], object]] = ()) -> bool:
        """Bring every projection up to date on a daemon thread, then run `then` (reads that
        fill caches, e.g. the live snapshot's). Returns False if a warm-up is already running."""
        if not self._warming.acquire(blocking=False):
            return False
        self._ready.clear()
        if self._progress.state != "warming":
            self._progress = Progress("warming")

        def run() -> None:
            try:
                self.sync()
            except Exception:  # noqa: BLE001 - the next reader starts another warm-up
                log.warning("warming up the change follower failed", exc_info=True)
                return
            finally:
                self._warming.release()
            for work in then:
                try:
                    work()
                except Exception:  # noqa: BLE001 - only a head start for a cache
                    log.warning("warm-up read failed", exc_info=True)

        threading.Thread(target=run, name="floodpost-warm", daemon=True).start()
        return True

    def tick(self, done: int, total: int) -> None:
        """Report the progress of the step running now (seeds call this; thread-safe)."""
        if not self._plan:
            return
        name, _ = self._plan[self._step]
        weights = [w for _, w in self._plan]
        part = min(1.0, done / total) if total > 0 else 0.0
        whole = (sum(weights[: self._step]) + weights[self._step] * part) / sum(weights)
        self._progress = Progress("warming", name, done, total, round(whole, 3))

    def _settled(self) -> bool:
        """Whether a read can go ahead now: ready, and no projection due for a seed (one cheap
        read of the newest seq; the steady state's few changes are applied under the lock)."""
        if not self._ready.is_set():
            return False
        head = self.store.last_change_seq()
        return not any(self._reseed_due(s, head) for s in self._subs)

    def _begin(self, seeds: list[tuple[str, float]]) -> None:
        self._plan = [*seeds, ("catch_up", 1.0)]
        self._step = 0
        self.tick(0, 0)

    def _next_step(self) -> None:
        if self._step < len(self._plan) - 1:
            self._step += 1
        self.tick(0, 0)

    # -- following ---------------------------------------------------------------------------
    def _due(self, sub: _Subscription, head: int) -> bool:
        return sub.seq is None or self._reseed_due(sub, head)

    def _reseed_due(self, sub: _Subscription, head: int) -> bool:
        seq = sub.seq
        if seq is None or seq > head:  # never started, or ahead of the store (rebuilt)
            return True
        return sub.seed is not None and head - seq > self.reseed_after

    def _start(self, sub: _Subscription) -> None:
        sub.projection.reset()
        if sub.seed is None:
            sub.seq = 0
            return
        sub.seq = sub.seed()
        self._next_step()

    def _follow(self, head: int) -> None:
        subs = self._subs
        if not subs:
            return
        pos = start = min(s.seq or 0 for s in subs)
        store = self.store
        # Only the entities someone takes: the SMS notifier follows orders and warnings, and
        # decoding every report of a busy intake for it cost ≈ 6 % of the server's GIL time.
        wanted = frozenset().union(*(s.entities for s in subs))
        while pos < head:
            if not self._ready.is_set():
                self.tick(pos - start, head - start)
            page = store.changes_after(pos, self.page, wanted)
            self._take(page, subs)
            if len(page) < self.page:
                # Every wanted change up to head was in this page: all are taken in up to head.
                for sub in subs:
                    sub.seq = max(sub.seq or 0, head)
                break
            pos = page[-1].seq

    def _take(self, page: list[Change], subs: list[_Subscription]) -> None:
        """Feed one page to the subscriptions behind each change."""
        latest: dict[str, dict[str, Any]] = {}  # this page's versions, by entity id
        for change in page:
            seq = change.seq
            behind = [s for s in subs if (s.seq or 0) < seq]
            takers = [s for s in behind if change.entity in s.entities]
            if takers:
                previous = self._previous(change, latest)
                for sub in takers:
                    sub.projection.apply(change, previous)
            latest[change.report_id] = change.report
            for sub in behind:
                sub.seq = seq

    def _previous(self, change: Change, latest: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        if change.entity == "report" and change.action == "create":
            return None
        found = latest.get(change.report_id)
        if found is not None:
            return found
        return self.store.version_before(change.report_id, change.seq)
