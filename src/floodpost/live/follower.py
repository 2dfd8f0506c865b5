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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from floodpost.storage.base import Change, Store

REPORTS = frozenset({"report"})
PAGE = 2000
# Further behind than this, a seeded projection is seeded again instead of replaying.
RESEED_AFTER = 50_000


class Projection(Protocol):
    def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
        """Take one change in; `previous` is the entity's version before it (None if new)."""
        ...

    def reset(self) -> None:
        """Forget everything (the follower will seed or replay from the start)."""
        ...


@dataclass
class _Subscription:
    projection: Projection
    entities: frozenset[str]
    seed: Callable[[], int] | None
    seq: int | None = None  # the last change this projection has taken in; None: not started


class ChangeFollower:
    def __init__(self, store: Store, *, page: int = PAGE, reseed_after: int = RESEED_AFTER) -> None:
        self.store = store
        self.page = page
        self.reseed_after = reseed_after
        self.lock = threading.RLock()
        self._subs: list[_Subscription] = []
        self.seq = 0  # the newest change every projection has taken in

    def subscribe(
        self,
        projection: Projection,
        entities: frozenset[str] = REPORTS,
        *,
        seed: Callable[[], int] | None = None,
    ) -> None:
        """Feed `projection` the changes of `entities`. `seed()`, if given, fills it from the
        store's tables and returns the seq that state includes (changes up to it are not fed)."""
        with self.lock:
            self._subs.append(_Subscription(projection, frozenset(entities), seed))

    def sync(self) -> int:
        """Bring every projection up to the newest change; returns that change's seq."""
        with self.lock:
            head = self.store.last_change_seq()
            for sub in self._subs:
                self._start(sub, head)
            try:
                self._follow(head)
            except BaseException:
                for sub in self._subs:
                    sub.seq = None  # state unknown: seed or replay again next time
                raise
            self.seq = head
            return head

    @contextmanager
    def current(self) -> Iterator[int]:
        """Hold the lock with every projection up to date (read them inside)."""
        with self.lock:
            yield self.sync()

    def _start(self, sub: _Subscription, head: int) -> None:
        if sub.seq is not None and sub.seq <= head:
            if sub.seed is None or head - sub.seq <= self.reseed_after:
                return
        # Never started, too far behind, or ahead of the store (another store, rebuilt).
        sub.projection.reset()
        sub.seq = sub.seed() if sub.seed is not None else 0

    def _follow(self, head: int) -> None:
        subs = self._subs
        if not subs:
            return
        pos = min(s.seq or 0 for s in subs)
        store = self.store
        while pos < head:
            page = store.changes_after(pos, self.page)
            if not page:
                break
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
            pos = page[-1].seq

    def _previous(self, change: Change, latest: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        if change.entity == "report" and change.action == "create":
            return None
        found = latest.get(change.report_id)
        if found is not None:
            return found
        return self.store.version_before(change.report_id, change.seq)
