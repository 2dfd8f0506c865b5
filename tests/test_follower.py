"""The one change follower (issue 8): each change decoded once, the previous version known,
dispatched by entity, seeded projections fed only what follows their seed; both backends."""

from __future__ import annotations

from typing import Any

import pytest

from floodpost.live.follower import ChangeFollower
from floodpost.storage.base import Change
from tests.test_store import _report


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[int, str, str, str, dict[str, Any] | None]] = []
        self.resets = 0
        self.fail_at: int | None = None

    def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
        if change.seq == self.fail_at:
            self.fail_at = None
            raise RuntimeError("projection bug")
        self.seen.append((change.seq, change.entity, change.entity_id, change.action, previous))

    def reset(self) -> None:
        self.resets += 1
        self.seen = []


def _warn(store, wid: str, level: str) -> int:
    body = {"id": wid, "level": level}
    return store.transact(lambda tx: tx.log("warning", wid, "issue", body, actor="hydro"))


def _correct(store, rid: str, people: int) -> dict[str, Any]:
    return store.modify_report(
        rid, lambda r: {**r, "people": people}, actor="bob", action="correct", reason="typo"
    )


@pytest.mark.parametrize("page", [1, 1000])
def test_previous_versions_and_entities(store, page):
    reports, warnings = Recorder(), Recorder()
    follower = ChangeFollower(store, page=page)
    follower.subscribe(reports)
    follower.subscribe(warnings, frozenset({"warning"}))
    r1, h1 = _report(people=5)
    store.create_report(r1, h1, actor="a")
    s_w1 = _warn(store, "w1", "blue")
    v2 = _correct(store, r1["id"], 6)
    s_w2 = _warn(store, "w1", "red")
    v3 = _correct(store, r1["id"], 7)
    head = follower.sync()
    assert head == store.last_change_seq() == follower.seq
    assert [(e, i, a, p) for _, e, i, a, p in reports.seen] == [
        ("report", r1["id"], "create", None),
        ("report", r1["id"], "correct", r1),
        ("report", r1["id"], "correct", v2),
    ]
    assert reports.seen[-1][4]["people"] == 6 and v3["people"] == 7
    assert [(s, p) for s, _, _, _, p in warnings.seen] == [
        (s_w1, None),
        (s_w2, {"id": "w1", "level": "blue"}),
    ]
    # Nothing new: nothing applied again.
    follower.sync()
    assert len(reports.seen) == 3 and len(warnings.seen) == 2


def test_seeded_projection_gets_only_what_follows_its_seed(store):
    early, seeded = Recorder(), Recorder()
    r1, h1 = _report()
    store.create_report(r1, h1, actor="a")
    seed_at = store.last_change_seq()
    follower = ChangeFollower(store)
    follower.subscribe(early)
    follower.subscribe(seeded, seed=lambda: seed_at)
    r2, h2 = _report()
    store.create_report(r2, h2, actor="a")
    follower.sync()
    assert [i for _, _, i, _, _ in early.seen] == [r1["id"], r2["id"]]
    assert [i for _, _, i, _, _ in seeded.seen] == [r2["id"]]
    assert seeded.resets == 1


def test_far_behind_reseeds_and_a_failed_apply_starts_again(store):
    proj = Recorder()
    seeds: list[int] = []

    def seed() -> int:
        seeds.append(store.last_change_seq())
        return seeds[-1]

    follower = ChangeFollower(store, reseed_after=2)
    follower.subscribe(proj, seed=seed)
    follower.sync()
    items = [_report(people=i) for i in range(4)]
    store.create_report(*items[0], actor="a")
    follower.sync()
    assert len(proj.seen) == 1 and len(seeds) == 1
    for r, h in items[1:]:
        store.create_report(r, h, actor="a")
    follower.sync()  # three behind > reseed_after: seeded again, nothing replayed
    assert len(seeds) == 2 and proj.seen == [] and proj.resets == 2
    r, h = _report()
    store.create_report(r, h, actor="a")
    proj.fail_at = store.last_change_seq()
    with pytest.raises(RuntimeError):
        follower.sync()
    follower.sync()
    assert len(seeds) == 3 and proj.resets == 3


@pytest.mark.parametrize("page", [1, 3, 1000])
def test_a_follower_of_other_entities_reads_only_theirs_and_keeps_up(store, page, monkeypatch):
    """The SMS notifier's follower takes orders and warnings only: it asks the store for those
    (Store.changes_after(entities=…)) and still stands at the newest change afterwards, so the
    reports in between are neither decoded for it nor read again next time."""
    warnings = Recorder()
    follower = ChangeFollower(store, page=page)
    follower.subscribe(warnings, frozenset({"warning"}))
    follower.sync()
    for i in range(4):
        r, h = _report(people=i)
        store.create_report(r, h, actor="a")
    s_w = _warn(store, "w1", "blue")
    for _ in range(3):
        r, h = _report()
        store.create_report(r, h, actor="a")
    head = follower.sync()
    assert head == store.last_change_seq() == follower.seq
    assert [(seq, e, i) for seq, e, i, _, _ in warnings.seen] == [(s_w, "warning", "w1")]
    reads = []  # nothing new since: the next sync reads no change at all
    monkeypatch.setattr(store, "changes_after", lambda *a: reads.append(a) or [])
    assert follower.sync() == head and reads == []


def test_changes_after_of_some_entities(store):
    r, h = _report()
    store.create_report(r, h, actor="a")
    s_w = _warn(store, "w1", "blue")
    r2, h2 = _report()
    store.create_report(r2, h2, actor="a")
    assert [c.seq for c in store.changes_after(0, 10, {"warning"})] == [s_w]
    assert [c.report_id for c in store.changes_after(0, 10, {"report"})] == [r["id"], r2["id"]]
    assert len(store.changes_after(0, 10, {"report", "warning"})) == 3
    assert store.changes_after(s_w, 10, {"warning"}) == []
